//! Country names and codes (ISO 3166-1) to alpha-2, using the `celes` table
//! plus the spellings OFAC uses ("Korea, North", "Congo, Democratic Republic of the", …).

use std::str::FromStr;

/// Resolves a country given as alpha-2, alpha-3, English name or a common
/// alias to its upper-case ISO alpha-2 code.
pub fn country_code(input: &str) -> Option<&'static str> {
    let s = input.trim().trim_end_matches('.').trim();
    if s.is_empty() {
        return None;
    }
    let lower = s.to_lowercase();
    if let Some(code) = special(&lower) {
        return Some(code);
    }
    // OFAC writes "Korea, North" / "Congo, Republic of the": try the
    // reordered form too.
    let mut tries = vec![lower.clone()];
    if let Some((a, b)) = lower.split_once(',') {
        tries.push(format!("{} {}", b.trim(), a.trim()));
    }
    for t in tries {
        let t = t.trim_start_matches("the ").to_string();
        if let Some(code) = special(&t) {
            return Some(code);
        }
        let compact: String = t.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        for candidate in [compact.clone(), format!("the{compact}")] {
            if let Ok(c) = celes::Country::from_str(&candidate) {
                return Some(c.alpha2);
            }
        }
    }
    None
}

fn special(s: &str) -> Option<&'static str> {
    Some(match s {
        "korea north" | "north korea" | "korea, north" | "dprk" => "KP",
        "korea south" | "south korea" | "korea, south" => "KR",
        "congo democratic republic of the" | "democratic republic of the congo" | "drc" => "CD",
        "congo republic of the" | "republic of the congo" => "CG",
        "palestinian" | "west bank" | "gaza" | "palestinian territories" => "PS",
        "russia" | "russian federation" => "RU",
        "iran" => "IR",
        "syria" => "SY",
        "burma" | "myanmar" => "MM",
        "turkey" | "turkiye" => "TR",
        "united kingdom" | "uk" | "great britain" => "GB",
        "united states" | "usa" | "us" => "US",
        "venezuela" => "VE",
        "bolivia" => "BO",
        "vietnam" | "viet nam" => "VN",
        "laos" => "LA",
        "tanzania" => "TZ",
        "moldova" => "MD",
        "taiwan" => "TW",
        "kosovo" => "XK",
        "gambia" | "the gambia" => "GM",
        "cabo verde" | "cape verde" => "CV",
        "czech republic" | "czechia" => "CZ",
        "north macedonia the republic of" | "north macedonia" | "macedonia" => "MK",
        "ivory coast" | "cote d'ivoire" | "cote divoire" => "CI",
        "hong kong" => "HK",
        "macau" | "macao" => "MO",
        "brunei" => "BN",
        "micronesia" => "FM",
        "sudan" => "SD",
        "south sudan" => "SS",
        "region" => return None,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::country_code;

    #[test]
    fn resolves_codes_names_and_ofac_spellings() {
        assert_eq!(country_code("ESP"), Some("ES"));
        assert_eq!(country_code("es"), Some("ES"));
        assert_eq!(country_code("Lebanon"), Some("LB"));
        assert_eq!(country_code("Lebanon."), Some("LB"));
        assert_eq!(country_code("Korea, North"), Some("KP"));
        assert_eq!(
            country_code("Congo, Democratic Republic of the"),
            Some("CD")
        );
        assert_eq!(country_code("Saudi Arabia"), Some("SA"));
        assert_eq!(country_code("United Arab Emirates"), Some("AE"));
        assert_eq!(country_code("Bosnia and Herzegovina"), Some("BA"));
        assert_eq!(country_code("Iran"), Some("IR"));
        assert_eq!(country_code("Atlantis"), None);
    }
}
