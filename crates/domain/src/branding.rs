//! An application's branding on the pages people see (white-label customization): an accent
//! colour and up to three images (spec Appendix A's console `white-label-customization/`:
//! `image_square`, `image_rectangular`, `image_favicon`). The public API path is UNCERTAIN in
//! the spec; Verity serves it at `GET|PATCH /v3/customization/`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Largest branding image accepted.
pub const BRAND_IMAGE_MAX_BYTES: usize = 1024 * 1024;

/// WCAG 2.x AA contrast for normal text: the accent is text on white and white text's
/// background on buttons, so it must reach this against white.
pub const MIN_CONTRAST_WITH_WHITE: f64 = 4.5;

/// The pages' accent colour, `#rrggbb`, readable against white.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccentColor(String);

impl AccentColor {
    /// Accepts `#rgb` or `#rrggbb` (any case) with at least [`MIN_CONTRAST_WITH_WHITE`] against
    /// white; the error says why not.
    pub fn parse(text: &str) -> Result<Self, String> {
        let hex = text.trim().strip_prefix('#').unwrap_or("");
        let expanded: String = match hex.len() {
            3 => hex.chars().flat_map(|c| [c, c]).collect(),
            6 => hex.to_owned(),
            _ => String::new(),
        };
        if expanded.is_empty() || !expanded.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "\"{text}\" is not a colour: use #rrggbb (for example #1d4ed8)."
            ));
        }
        let color = Self(format!("#{}", expanded.to_ascii_lowercase()));
        let contrast = color.contrast_with_white();
        if contrast < MIN_CONTRAST_WITH_WHITE {
            return Err(format!(
                "{} has a contrast of {contrast:.1}:1 with white; at least {MIN_CONTRAST_WITH_WHITE}:1 is needed so text stays readable (WCAG AA).",
                color.0
            ));
        }
        Ok(color)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// WCAG contrast ratio between this colour and white.
    pub fn contrast_with_white(&self) -> f64 {
        let channel = |i: usize| {
            let value =
                f64::from(u8::from_str_radix(&self.0[1 + 2 * i..3 + 2 * i], 16).unwrap_or(0))
                    / 255.0;
            if value <= 0.04045 {
                value / 12.92
            } else {
                ((value + 0.055) / 1.055).powf(2.4)
            }
        };
        let luminance = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
        1.05 / (luminance + 0.05)
    }
}

impl TryFrom<String> for AccentColor {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl From<AccentColor> for String {
    fn from(color: AccentColor) -> String {
        color.0
    }
}

impl fmt::Display for AccentColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The images an application may brand its pages with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrandImage {
    /// A square logo (used when there is no rectangular one).
    ImageSquare,
    /// A wide logo for the page's top bar.
    ImageRectangular,
    /// The browser tab's icon.
    ImageFavicon,
}

impl BrandImage {
    pub const ALL: [BrandImage; 3] = [
        BrandImage::ImageSquare,
        BrandImage::ImageRectangular,
        BrandImage::ImageFavicon,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BrandImage::ImageSquare => "image_square",
            BrandImage::ImageRectangular => "image_rectangular",
            BrandImage::ImageFavicon => "image_favicon",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == text)
    }
}

/// A stored branding image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBrandImage {
    pub object_key: String,
    pub content_type: String,
    /// Changes with every upload, so public URLs can be cached for long.
    pub version: String,
}

/// An application's branding as stored (`applications.branding`, JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    pub primary_color: Option<AccentColor>,
    #[serde(default)]
    pub images: BTreeMap<BrandImage, StoredBrandImage>,
}

impl Branding {
    /// The logo for the top bar: the rectangular one, else the square one.
    pub fn logo(&self) -> Option<(BrandImage, &StoredBrandImage)> {
        [BrandImage::ImageRectangular, BrandImage::ImageSquare]
            .into_iter()
            .find_map(|kind| self.images.get(&kind).map(|image| (kind, image)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accent_colours_must_be_readable_on_white() {
        assert_eq!(AccentColor::parse("#1D4ED8").unwrap().as_str(), "#1d4ed8");
        assert_eq!(AccentColor::parse("#000").unwrap().as_str(), "#000000");
        let black = AccentColor::parse("#000000").unwrap();
        assert!((black.contrast_with_white() - 21.0).abs() < 1e-9);
        let error = AccentColor::parse("#ffcc00").unwrap_err();
        assert!(error.contains("1.5:1"), "{error}");
        for bad in ["blue", "#12345", "1d4ed8", "#gggggg", ""] {
            assert!(AccentColor::parse(bad).is_err(), "{bad}");
        }
        // Stored JSON is validated again when read.
        assert!(serde_json::from_str::<AccentColor>("\"#ffffff\"").is_err());
    }

    #[test]
    fn the_logo_prefers_the_rectangular_image() {
        let image = |key: &str| StoredBrandImage {
            object_key: key.into(),
            content_type: "image/png".into(),
            version: "1".into(),
        };
        let mut branding = Branding::default();
        assert!(branding.logo().is_none());
        branding
            .images
            .insert(BrandImage::ImageSquare, image("square"));
        assert_eq!(branding.logo().unwrap().0, BrandImage::ImageSquare);
        branding
            .images
            .insert(BrandImage::ImageRectangular, image("wide"));
        assert_eq!(branding.logo().unwrap().0, BrandImage::ImageRectangular);
    }
}
