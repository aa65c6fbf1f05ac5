//! Flowing layout over a [`Canvas`]: a cursor moves down the page, and every block (heading,
//! table row, image row) first asks for its height; when it does not fit, the block starts a new
//! page. Tables repeat their header row on each page they continue onto.

use crate::canvas::{text_width, Canvas, Color, Weight, PAGE_HEIGHT, PAGE_WIDTH};

pub const MARGIN_X: f32 = 42.0;
pub const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
const CONTENT_TOP: f32 = 62.0;
const CONTENT_BOTTOM: f32 = PAGE_HEIGHT - 54.0;

/// Longest text shown for one value; the rest is summarised, so one value can never outgrow a page.
const MAX_CHARS: usize = 1_500;
/// Lines one table cell may take (at 11 pt leading, well under a page).
const MAX_CELL_LINES: usize = 36;

pub mod palette {
    use crate::canvas::Color;

    pub const INK: Color = Color::hex(0x1F2937);
    pub const MUTED: Color = Color::hex(0x6B7280);
    pub const ACCENT: Color = Color::hex(0x1E3A8A);
    pub const RULE: Color = Color::hex(0xE5E7EB);
    pub const HEADER_FILL: Color = Color::hex(0xF1F5F9);
    pub const ZEBRA: Color = Color::hex(0xF9FAFB);
    pub const CARD: Color = Color::hex(0xF8FAFC);
    pub const WHITE: Color = Color::hex(0xFFFFFF);
    pub const GREEN: Color = Color::hex(0x15803D);
    pub const RED: Color = Color::hex(0xB91C1C);
    pub const AMBER: Color = Color::hex(0xB45309);
    pub const BLUE: Color = Color::hex(0x1D4ED8);
    pub const PURPLE: Color = Color::hex(0x7E22CE);
    pub const GREY: Color = Color::hex(0x6B7280);
}

use palette::*;

/// How a table cell's text is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    Normal,
    Bold,
    Muted,
    /// Bold, in a status or severity colour.
    Colored(Color),
}

#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    pub style: Style,
}

impl Cell {
    pub fn new(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            style: Style::Normal,
        }
    }

    pub fn styled(text: impl Into<String>, style: Style) -> Self {
        Cell {
            text: text.into(),
            style,
        }
    }
}

/// A table column: its header text and its share of the content width.
pub struct Column<'a> {
    pub title: &'a str,
    pub share: f32,
}

/// One image slot of an image grid.
pub struct GridImage {
    pub label: String,
    pub content: GridContent,
}

pub enum GridContent {
    /// A registered canvas image and its pixel size.
    Image {
        index: usize,
        width: u32,
        height: u32,
    },
    /// Shown in place of an image that could not be used.
    Note(String),
}

pub struct Layout {
    pub canvas: Canvas,
    y: f32,
    /// Headings waiting for the block they introduce.
    pending: Vec<Heading>,
}

enum Heading {
    Section(String),
    Subsection {
        title: String,
        detail: String,
        status: Option<(String, Color)>,
    },
    Caption(String),
}

impl Heading {
    /// Height when drawn (a section's top spacing counted even at the top of a page).
    fn height(&self) -> f32 {
        match self {
            Heading::Section(_) => 42.0,
            Heading::Subsection { .. } => 27.0,
            Heading::Caption(_) => 18.0,
        }
    }
}

const TABLE_SIZE: f32 = 8.5;
const TABLE_LEADING: f32 = 11.0;
const CELL_PAD_X: f32 = 5.0;
const CELL_PAD_Y: f32 = 4.0;

impl Layout {
    pub fn new() -> Self {
        let mut canvas = Canvas::new();
        canvas.add_page();
        Layout {
            canvas,
            y: CONTENT_TOP,
            pending: Vec::new(),
        }
    }

    pub fn y(&self) -> f32 {
        self.y
    }

    pub fn advance(&mut self, height: f32) {
        self.y += height;
    }

    fn new_page(&mut self) {
        self.canvas.add_page();
        self.y = CONTENT_TOP;
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn ensure(&mut self, height: f32) {
        if self.y + height > CONTENT_BOTTOM && self.y > CONTENT_TOP {
            self.new_page();
        }
    }

    /// A section title with a rule under it. Headings are drawn with the block that follows
    /// them (see [`Layout::place`]), so a heading never ends a page on its own.
    pub fn section(&mut self, title: &str) {
        self.pending.push(Heading::Section(title.to_owned()));
    }

    /// A check's title line: accent bar, bold title, muted detail and a status badge at the right.
    pub fn subsection(&mut self, title: &str, detail: &str, status: Option<(&str, Color)>) {
        self.pending.push(Heading::Subsection {
            title: title.to_owned(),
            detail: detail.to_owned(),
            status: status.map(|(text, color)| (text.to_owned(), color)),
        });
    }

    /// A small bold caption above a table (e.g. "Warnings").
    pub fn caption(&mut self, text: &str) {
        self.pending.push(Heading::Caption(text.to_owned()));
    }

    /// Makes room for the pending headings plus `height` of the block that follows, then draws
    /// the headings.
    fn place(&mut self, height: f32) {
        let headings: f32 = self.pending.iter().map(Heading::height).sum();
        self.ensure(headings + height);
        for heading in std::mem::take(&mut self.pending) {
            self.draw_heading(heading);
        }
    }

    fn draw_heading(&mut self, heading: Heading) {
        match heading {
            Heading::Section(title) => {
                if self.y > CONTENT_TOP {
                    self.y += 14.0;
                }
                let title = fit(&clean(&title), Weight::Bold, 13.5, CONTENT_WIDTH);
                self.canvas
                    .text(MARGIN_X, self.y + 13.0, &title, Weight::Bold, 13.5, ACCENT);
                self.y += 19.0;
                self.canvas.line(
                    MARGIN_X,
                    self.y,
                    MARGIN_X + CONTENT_WIDTH,
                    self.y,
                    1.2,
                    ACCENT,
                );
                self.y += 9.0;
            }
            Heading::Subsection {
                title,
                detail,
                status,
            } => {
                self.y += 6.0;
                let baseline = self.y + 12.0;
                self.canvas
                    .fill_rect(MARGIN_X, self.y + 1.0, 3.0, 14.0, ACCENT);
                let title = fit(&clean(&title), Weight::Bold, 11.0, CONTENT_WIDTH * 0.6);
                self.canvas
                    .text(MARGIN_X + 9.0, baseline, &title, Weight::Bold, 11.0, INK);
                let after = MARGIN_X + 9.0 + text_width(&title, Weight::Bold, 11.0) + 8.0;
                let mut right = MARGIN_X + CONTENT_WIDTH;
                if let Some((text, color)) = status {
                    let text = fit(&clean(&text), Weight::Bold, 8.0, CONTENT_WIDTH * 0.3);
                    right -= self.badge_width(&text, 8.0) + 6.0;
                    self.badge(MARGIN_X + CONTENT_WIDTH, self.y, &text, color, 8.0);
                }
                if !detail.is_empty() && right > after {
                    let detail = fit(&clean(&detail), Weight::Regular, 8.5, right - after);
                    self.canvas
                        .text(after, baseline - 0.5, &detail, Weight::Regular, 8.5, MUTED);
                }
                self.y += 21.0;
            }
            Heading::Caption(text) => {
                self.y += 4.0;
                let text = fit(&clean(&text), Weight::Bold, 8.5, CONTENT_WIDTH);
                self.canvas
                    .text(MARGIN_X, self.y + 9.0, &text, Weight::Bold, 8.5, MUTED);
                self.y += 14.0;
            }
        }
    }

    pub fn badge_width(&self, text: &str, size: f32) -> f32 {
        text_width(text, Weight::Bold, size) + size * 1.6
    }

    /// A rounded, filled status badge whose right edge is at `right`; returns its height.
    pub fn badge(&mut self, right: f32, top: f32, text: &str, color: Color, size: f32) -> f32 {
        let width = self.badge_width(text, size);
        let height = size * 2.0;
        self.canvas
            .fill_rounded(right - width, top, width, height, height / 2.0, color);
        self.canvas.text(
            right - width + size * 0.8,
            top + size * 1.38,
            text,
            Weight::Bold,
            size,
            WHITE,
        );
        height
    }

    /// Wrapped running text.
    pub fn paragraph(&mut self, text: &str, weight: Weight, size: f32, color: Color) {
        let leading = size * 1.35;
        for line in wrap(&clean(text), weight, size, CONTENT_WIDTH) {
            self.place(leading);
            self.canvas
                .text(MARGIN_X, self.y + size, &line, weight, size, color);
            self.y += leading;
        }
    }

    /// A table; rows never split, and the header row is repeated on each new page.
    pub fn table(&mut self, columns: &[Column<'_>], rows: &[Vec<Cell>], header: bool) {
        let total: f32 = columns
            .iter()
            .map(|c| c.share)
            .sum::<f32>()
            .max(f32::EPSILON);
        let styles: Vec<Vec<Style>> = rows
            .iter()
            .map(|row| row.iter().map(|cell| cell.style).collect())
            .collect();
        let widths: Vec<f32> = columns
            .iter()
            .map(|c| c.share / total * CONTENT_WIDTH)
            .collect();
        let header_height = if header {
            TABLE_LEADING + 2.0 * CELL_PAD_Y
        } else {
            0.0
        };
        let rows: Vec<(Vec<Vec<String>>, f32)> = rows
            .iter()
            .map(|row| {
                let wrapped: Vec<Vec<String>> = widths
                    .iter()
                    .enumerate()
                    .map(|(col, width)| match row.get(col) {
                        Some(cell) => cell_lines(cell, *width - 2.0 * CELL_PAD_X),
                        None => Vec::new(),
                    })
                    .collect();
                let lines = wrapped.iter().map(Vec::len).max().unwrap_or(0).max(1);
                (wrapped, lines as f32 * TABLE_LEADING + 2.0 * CELL_PAD_Y)
            })
            .collect();
        let first = rows.first().map_or(0.0, |(_, height)| *height);
        self.place(header_height + first);
        if header {
            self.table_header(columns, &widths);
        }
        for (index, (wrapped, height)) in rows.iter().enumerate() {
            let height = *height;
            if self.y + height > CONTENT_BOTTOM {
                self.new_page();
                if header {
                    self.table_header(columns, &widths);
                }
            }
            if index % 2 == 1 {
                self.canvas
                    .fill_rect(MARGIN_X, self.y, CONTENT_WIDTH, height, ZEBRA);
            }
            let mut x = MARGIN_X;
            for (col, lines) in wrapped.iter().enumerate() {
                let style = styles[index].get(col).copied().unwrap_or(Style::Normal);
                let (weight, color) = match style {
                    Style::Normal => (Weight::Regular, INK),
                    Style::Bold => (Weight::Bold, INK),
                    Style::Muted => (Weight::Regular, MUTED),
                    Style::Colored(color) => (Weight::Bold, color),
                };
                for (n, line) in lines.iter().enumerate() {
                    let baseline =
                        self.y + CELL_PAD_Y + TABLE_SIZE + 0.5 + n as f32 * TABLE_LEADING;
                    self.canvas
                        .text(x + CELL_PAD_X, baseline, line, weight, TABLE_SIZE, color);
                }
                x += widths[col];
            }
            self.y += height;
            self.canvas.line(
                MARGIN_X,
                self.y,
                MARGIN_X + CONTENT_WIDTH,
                self.y,
                0.5,
                RULE,
            );
        }
    }

    fn table_header(&mut self, columns: &[Column<'_>], widths: &[f32]) {
        let height = TABLE_LEADING + 2.0 * CELL_PAD_Y;
        self.canvas
            .fill_rect(MARGIN_X, self.y, CONTENT_WIDTH, height, HEADER_FILL);
        let mut x = MARGIN_X;
        for (column, width) in columns.iter().zip(widths) {
            let title = fit(column.title, Weight::Bold, 8.0, width - 2.0 * CELL_PAD_X);
            self.canvas.text(
                x + CELL_PAD_X,
                self.y + CELL_PAD_Y + 8.5,
                &title,
                Weight::Bold,
                8.0,
                MUTED,
            );
            x += width;
        }
        self.y += height;
    }

    /// Label/value pairs in two side-by-side columns, filled row by row; `shares` are the
    /// widths of label, value, label, value.
    pub fn field_grid(&mut self, pairs: &[(String, String)], shares: [f32; 4]) {
        let columns = shares.map(|share| Column { title: "", share });
        let rows: Vec<Vec<Cell>> = pairs
            .chunks(2)
            .map(|chunk| {
                chunk
                    .iter()
                    .flat_map(|(label, value)| {
                        [
                            Cell::styled(label.clone(), Style::Muted),
                            Cell::new(value.clone()),
                        ]
                    })
                    .collect()
            })
            .collect();
        self.table(&columns, &rows, false);
    }

    /// Label/value rows, one pair per row.
    pub fn key_values(&mut self, pairs: &[(String, String)]) {
        let columns = [
            Column {
                title: "",
                share: 0.3,
            },
            Column {
                title: "",
                share: 0.7,
            },
        ];
        let rows: Vec<Vec<Cell>> = pairs
            .iter()
            .map(|(label, value)| {
                vec![
                    Cell::styled(label.clone(), Style::Muted),
                    Cell::new(value.clone()),
                ]
            })
            .collect();
        self.table(&columns, &rows, false);
    }

    /// Images three to a row, each fitted into its slot with its label underneath.
    pub fn image_grid(&mut self, images: &[GridImage]) {
        const PER_ROW: usize = 3;
        const GAP: f32 = 12.0;
        const BOX_HEIGHT: f32 = 150.0;
        let slot = (CONTENT_WIDTH - GAP * (PER_ROW as f32 - 1.0)) / PER_ROW as f32;
        for row in images.chunks(PER_ROW) {
            self.place(BOX_HEIGHT + 34.0);
            let top = self.y;
            for (n, item) in row.iter().enumerate() {
                let x = MARGIN_X + n as f32 * (slot + GAP);
                self.canvas.fill_rect(x, top, slot, BOX_HEIGHT, CARD);
                self.canvas.stroke_rect(x, top, slot, BOX_HEIGHT, 0.6, RULE);
                let caption = match &item.content {
                    GridContent::Image {
                        index,
                        width,
                        height,
                    } => {
                        let (w, h) = (*width as f32, *height as f32);
                        let scale = ((slot - 8.0) / w).min((BOX_HEIGHT - 8.0) / h);
                        let (dw, dh) = (w * scale, h * scale);
                        self.canvas.image(
                            *index,
                            x + (slot - dw) / 2.0,
                            top + (BOX_HEIGHT - dh) / 2.0,
                            dw,
                            dh,
                        );
                        format!("{width} × {height} px")
                    }
                    GridContent::Note(note) => {
                        let lines = wrap(note, Weight::Regular, 8.0, slot - 16.0);
                        let start = top + BOX_HEIGHT / 2.0 - lines.len() as f32 * 5.0;
                        for (i, line) in lines.iter().take(6).enumerate() {
                            let w = text_width(line, Weight::Regular, 8.0);
                            self.canvas.text(
                                x + (slot - w) / 2.0,
                                start + 8.0 + i as f32 * 10.0,
                                line,
                                Weight::Regular,
                                8.0,
                                RED,
                            );
                        }
                        "not shown".to_owned()
                    }
                };
                let label = fit(&clean(&item.label), Weight::Bold, 8.5, slot);
                self.canvas
                    .text(x, top + BOX_HEIGHT + 12.0, &label, Weight::Bold, 8.5, INK);
                self.canvas.text(
                    x,
                    top + BOX_HEIGHT + 23.0,
                    &caption,
                    Weight::Regular,
                    7.5,
                    MUTED,
                );
            }
            self.y = top + BOX_HEIGHT + 34.0;
        }
    }

    /// Draws the running header and footer on every page, now that the page count is known.
    pub fn finish_pages(
        mut self,
        header_left: &str,
        header_right: &str,
        footer_left: &str,
    ) -> Canvas {
        self.place(0.0);
        let count = self.canvas.page_count();
        let header_left = fit(
            &clean(header_left),
            Weight::Regular,
            8.0,
            CONTENT_WIDTH * 0.6,
        );
        let footer_left = fit(
            &clean(footer_left),
            Weight::Regular,
            7.5,
            CONTENT_WIDTH * 0.8,
        );
        for page in 0..count {
            let canvas = &mut self.canvas;
            canvas.select_page(page);
            canvas.text(MARGIN_X, 34.0, &header_left, Weight::Regular, 8.0, MUTED);
            let width = text_width(header_right, Weight::Bold, 8.0);
            canvas.text(
                MARGIN_X + CONTENT_WIDTH - width,
                34.0,
                header_right,
                Weight::Bold,
                8.0,
                ACCENT,
            );
            canvas.line(MARGIN_X, 41.0, MARGIN_X + CONTENT_WIDTH, 41.0, 0.6, RULE);

            let footer_top = PAGE_HEIGHT - 36.0;
            canvas.line(
                MARGIN_X,
                footer_top,
                MARGIN_X + CONTENT_WIDTH,
                footer_top,
                0.6,
                RULE,
            );
            let baseline = footer_top + 13.0;
            canvas.text(
                MARGIN_X,
                baseline,
                &footer_left,
                Weight::Regular,
                7.5,
                MUTED,
            );
            let number = format!("Page {} of {count}", page + 1);
            let width = text_width(&number, Weight::Bold, 7.5);
            canvas.text(
                MARGIN_X + CONTENT_WIDTH - width,
                baseline,
                &number,
                Weight::Bold,
                7.5,
                INK,
            );
        }
        self.canvas
    }
}

fn cell_lines(cell: &Cell, width: f32) -> Vec<String> {
    let weight = match cell.style {
        Style::Bold | Style::Colored(_) => Weight::Bold,
        Style::Normal | Style::Muted => Weight::Regular,
    };
    let mut lines = wrap(&clean(&cell.text), weight, TABLE_SIZE, width);
    if lines.len() > MAX_CELL_LINES {
        lines.truncate(MAX_CELL_LINES - 1);
        let shown: usize = lines.iter().map(|line| line.chars().count()).sum();
        let rest = cell.text.chars().count().saturating_sub(shown);
        lines.push(fit(
            &format!("… ({rest} more characters)"),
            weight,
            TABLE_SIZE,
            width,
        ));
    }
    lines
}

/// Printable text: control characters become spaces and very long values are cut, saying so.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CHARS * 4));
    let mut count = 0;
    for ch in text.chars() {
        if count == MAX_CHARS {
            let rest = text.chars().count() - MAX_CHARS;
            out.push_str(&format!(" … ({rest} more characters)"));
            break;
        }
        out.push(match ch {
            '\n' => '\n',
            '\r' => continue,
            c if c.is_control() => ' ',
            c => c,
        });
        count += 1;
    }
    out
}

/// Cuts `text` with an ellipsis so that it fits `width` on one line.
pub fn fit(text: &str, weight: Weight, size: f32, width: f32) -> String {
    let text = text.replace('\n', " ");
    if text_width(&text, weight, size) <= width {
        return text;
    }
    let ellipsis = text_width("…", weight, size);
    let mut out = String::new();
    let mut used = 0.0;
    for ch in text.chars() {
        let w = text_width(ch.encode_utf8(&mut [0; 4]), weight, size);
        if used + w + ellipsis > width {
            break;
        }
        used += w;
        out.push(ch);
    }
    out.push('…');
    out
}

/// Greedy word wrap; words wider than the line are broken between characters.
pub fn wrap(text: &str, weight: Weight, size: f32, width: f32) -> Vec<String> {
    let width = width.max(size);
    let space = text_width(" ", weight, size);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0.0;
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let word_width = text_width(word, weight, size);
            let needed = if line.is_empty() {
                word_width
            } else {
                line_width + space + word_width
            };
            if needed <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_width = needed;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            if word_width <= width {
                line.push_str(word);
                line_width = word_width;
                continue;
            }
            // Too wide for a line: break after punctuation where possible (e-mail addresses,
            // event names, dotted paths), between characters otherwise.
            for piece in word.split_inclusive(['.', '_', '-', '/', '@', ',']) {
                let piece_width = text_width(piece, weight, size);
                if line_width + piece_width <= width {
                    line.push_str(piece);
                    line_width += piece_width;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                if piece_width <= width {
                    line.push_str(piece);
                    line_width = piece_width;
                    continue;
                }
                for ch in piece.chars() {
                    let w = text_width(ch.encode_utf8(&mut [0; 4]), weight, size);
                    if line_width + w > width && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        line_width = 0.0;
                    }
                    line.push(ch);
                    line_width += w;
                }
            }
        }
        lines.push(line);
    }
    // A value that was only blank lines still takes no more than one line.
    while lines.len() > 1 && lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_respects_the_width_and_keeps_every_word() {
        let text = "Ægir Øster-Ñúñez lives at Calle de la Princesa 21, 28008 Madrid";
        let lines = wrap(text, Weight::Regular, 9.0, 90.0);
        assert!(lines.len() > 2, "{lines:?}");
        for line in &lines {
            assert!(text_width(line, Weight::Regular, 9.0) <= 90.0, "{line}");
        }
        assert_eq!(lines.join(" "), text);
    }

    #[test]
    fn long_words_break_after_punctuation_first() {
        let lines = wrap("maria.lopez@nordlys.example", Weight::Regular, 9.0, 85.0);
        assert_eq!(lines, ["maria.lopez@", "nordlys.example"]);
    }

    #[test]
    fn long_words_break_between_characters() {
        let word = "x".repeat(500);
        let lines = wrap(&word, Weight::Regular, 9.0, 100.0);
        assert!(lines.len() > 5);
        assert_eq!(lines.concat(), word);
        assert_eq!(wrap("", Weight::Regular, 9.0, 100.0), vec![String::new()]);
        assert_eq!(
            wrap("a\n\n\n", Weight::Regular, 9.0, 100.0),
            vec!["a".to_owned()]
        );
    }

    #[test]
    fn clean_cuts_long_values_and_controls() {
        assert_eq!(clean("a\tb\r\nc\u{0}"), "a b\nc ");
        let long = "é".repeat(MAX_CHARS + 10);
        let cleaned = clean(&long);
        assert!(cleaned.ends_with("(10 more characters)"));
        assert_eq!(cleaned.chars().filter(|c| *c == 'é').count(), MAX_CHARS);
    }

    #[test]
    fn fit_adds_an_ellipsis_only_when_needed() {
        assert_eq!(fit("short", Weight::Bold, 10.0, 200.0), "short");
        let cut = fit(&"word ".repeat(50), Weight::Bold, 10.0, 100.0);
        assert!(cut.ends_with('…'));
        assert!(text_width(&cut, Weight::Bold, 10.0) <= 100.0);
    }

    #[test]
    fn tall_content_flows_onto_new_pages() {
        let mut layout = Layout::new();
        let rows: Vec<Vec<Cell>> = (0..200)
            .map(|i| vec![Cell::new(format!("row {i}")), Cell::new("value")])
            .collect();
        let columns = [
            Column {
                title: "A",
                share: 1.0,
            },
            Column {
                title: "B",
                share: 1.0,
            },
        ];
        layout.table(&columns, &rows, true);
        assert!(layout.canvas.page_count() >= 4);
        assert!(layout.y() <= CONTENT_BOTTOM);
    }
}
