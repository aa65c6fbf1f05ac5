//! Deterministic synthetic names and entities: the evaluation fallback when
//! no real list is available, and the filler for the 1M-entity benchmark.

use crate::model::{Dataset, Entity, Schema};

/// SplitMix64: tiny, deterministic, good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Common given names from many cultures (most frequent first, roughly).
pub const FIRST_NAMES: &[&str] = &[
    "John",
    "Maria",
    "Mohammed",
    "Wei",
    "Anna",
    "David",
    "Jose",
    "Fatima",
    "Li",
    "James",
    "Ahmed",
    "Elena",
    "Michael",
    "Ali",
    "Olga",
    "Robert",
    "Juan",
    "Sofia",
    "Ivan",
    "Sarah",
    "Carlos",
    "Aisha",
    "Peter",
    "Yusuf",
    "Laura",
    "Sergei",
    "Priya",
    "Thomas",
    "Hassan",
    "Emma",
    "Luis",
    "Natalia",
    "Omar",
    "Chen",
    "Daniel",
    "Mariam",
    "Paul",
    "Dmitry",
    "Ana",
    "Ibrahim",
    "George",
    "Rahul",
    "Irina",
    "Mark",
    "Khalid",
    "Lucia",
    "Andrew",
    "Yan",
    "Pierre",
    "Amina",
    "Alexander",
    "Ming",
    "Francesco",
    "Leila",
    "Hans",
    "Svetlana",
    "Antonio",
    "Zainab",
    "Richard",
    "Hiroshi",
    "Chloe",
    "Mustafa",
    "Pablo",
    "Nadia",
    "William",
    "Tatiana",
    "Raj",
    "Julia",
    "Tariq",
    "Marco",
    "Ekaterina",
    "Kwame",
    "Ingrid",
    "Diego",
    "Yuki",
    "Samuel",
    "Noura",
    "Patrick",
    "Anil",
    "Gabriel",
    "Hana",
    "Viktor",
    "Rosa",
    "Jamal",
    "Andrei",
    "Isabel",
    "Kofi",
    "Lars",
    "Mei",
    "Nikolai",
    "Beatriz",
    "Oleksandr",
    "Sipho",
    "Arjun",
    "Fernando",
    "Yasmin",
    "Stefan",
    "Chinedu",
    "Kenji",
    "Aleksandra",
    "Bilal",
    "Miguel",
    "Hyun",
    "Emily",
    "Abdullah",
    "Jorge",
    "Anastasia",
    "Ravi",
    "Christopher",
    "Salma",
    "Mateo",
    "Ngozi",
    "Jan",
    "Farid",
    "Camille",
    "Tomasz",
    "Adriana",
    "Reza",
    "Heinrich",
    "Noor",
    "Emmanuel",
    "Keiko",
    "Rustam",
    "Valentina",
    "Olumide",
];

/// Common surnames from many cultures.
pub const SURNAMES: &[&str] = &[
    "Smith",
    "Garcia",
    "Wang",
    "Kumar",
    "Ivanov",
    "Mueller",
    "Rossi",
    "Nguyen",
    "Kim",
    "Silva",
    "Johnson",
    "Martinez",
    "Zhang",
    "Singh",
    "Petrova",
    "Schmidt",
    "Russo",
    "Tran",
    "Park",
    "Santos",
    "Williams",
    "Rodriguez",
    "Liu",
    "Sharma",
    "Smirnov",
    "Schneider",
    "Ferrari",
    "Le",
    "Choi",
    "Oliveira",
    "Brown",
    "Lopez",
    "Chen",
    "Patel",
    "Kuznetsov",
    "Fischer",
    "Esposito",
    "Pham",
    "Jung",
    "Souza",
    "Jones",
    "Hernandez",
    "Yang",
    "Gupta",
    "Popov",
    "Weber",
    "Bianchi",
    "Hoang",
    "Kang",
    "Pereira",
    "Miller",
    "Gonzalez",
    "Huang",
    "Reddy",
    "Sokolov",
    "Meyer",
    "Romano",
    "Vu",
    "Cho",
    "Costa",
    "Davis",
    "Perez",
    "Zhao",
    "Das",
    "Lebedev",
    "Wagner",
    "Colombo",
    "Dang",
    "Yoon",
    "Rodrigues",
    "Wilson",
    "Sanchez",
    "Wu",
    "Iyer",
    "Kozlov",
    "Becker",
    "Ricci",
    "Bui",
    "Jang",
    "Almeida",
    "Anderson",
    "Ramirez",
    "Zhou",
    "Nair",
    "Novikov",
    "Hoffmann",
    "Marino",
    "Do",
    "Lim",
    "Lima",
    "Taylor",
    "Torres",
    "Xu",
    "Mehta",
    "Morozov",
    "Schulz",
    "Greco",
    "Ngo",
    "Han",
    "Carvalho",
    "Okafor",
    "Mensah",
    "Dubois",
    "Laurent",
    "Nielsen",
    "Hansen",
    "Kowalski",
    "Nowak",
    "Yilmaz",
    "Kaya",
    "Demir",
    "Haddad",
    "Khoury",
    "Mansour",
    "Nasser",
    "Saleh",
    "Tanaka",
    "Suzuki",
    "Sato",
    "Watanabe",
    "Adeyemi",
    "Okonkwo",
    "Bakker",
    "Jansen",
    "Andersson",
    "Johansson",
    "Virtanen",
    "Horvat",
    "Novak",
    "Papadopoulos",
    "Georgiou",
    "Cohen",
    "Levi",
    "Friedman",
    "Moreau",
    "Lefebvre",
    "Fontaine",
    "Castillo",
    "Vargas",
    "Mendoza",
    "Herrera",
    "Medina",
    "Aguilar",
    "Quispe",
    "Mamani",
    "Banda",
    "Phiri",
];

const ONSETS: &[&str] = &[
    "b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "sh", "kh", "br",
    "dr", "st", "tr", "ch", "y", "j", "gr", "kr", "al", "el", "ab", "ar",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "a", "i", "ou", "ia", "ei"];
const CODAS: &[&str] = &[
    "", "", "", "n", "r", "s", "l", "m", "v", "d", "k", "t", "sh", "ov", "ez", "in", "an",
];

/// A pronounceable made-up name of 2–4 syllables.
pub fn syllable_name(rng: &mut Rng) -> String {
    let n = 2 + rng.below(3);
    let mut s = String::new();
    for i in 0..n {
        let part: &&str = rng.pick(ONSETS);
        s.push_str(part);
        let part: &&str = rng.pick(VOWELS);
        s.push_str(part);
        if i + 1 == n || rng.chance(0.3) {
            let part: &&str = rng.pick(CODAS);
            s.push_str(part);
        }
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

/// Zipf–Mandelbrot sampler over ranks 0..n: rank r has weight 1/(r+1+q).
/// q = 0 is plain Zipf; a positive q flattens the head, as in real name
/// frequencies (the most common surname is ~1 % of people, not ~9 %).
pub struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize) -> Self {
        Self::with_offset(n, 0.0)
    }

    pub fn with_offset(n: usize, q: f64) -> Self {
        let mut acc = 0.0;
        let cumulative = (0..n)
            .map(|r| {
                acc += 1.0 / (r as f64 + 1.0 + q);
                acc
            })
            .collect();
        Zipf { cumulative }
    }

    /// Probability of rank `r`.
    pub fn share(&self, r: usize) -> f64 {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let prev = if r == 0 { 0.0 } else { self.cumulative[r - 1] };
        (self.cumulative[r] - prev) / total
    }

    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let u = rng.unit() * total;
        self.cumulative
            .partition_point(|&c| c < u)
            .min(self.cumulative.len() - 1)
    }
}

/// Token pools for a realistic population: the common names above first
/// (they get the Zipf head), then `extra_given` / `extra_surnames` from real
/// data, then made-up names for the long tail.
pub struct NamePools {
    pub given: Vec<String>,
    pub surnames: Vec<String>,
    given_zipf: Zipf,
    surname_zipf: Zipf,
}

impl NamePools {
    pub fn new(
        rng: &mut Rng,
        extra_given: &[String],
        extra_surnames: &[String],
        tail: usize,
    ) -> Self {
        let mut given: Vec<String> = FIRST_NAMES.iter().map(|s| s.to_string()).collect();
        given.extend(extra_given.iter().cloned());
        let mut surnames: Vec<String> = SURNAMES.iter().map(|s| s.to_string()).collect();
        surnames.extend(extra_surnames.iter().cloned());
        for _ in 0..tail / 4 {
            given.push(syllable_name(rng));
        }
        for _ in 0..tail {
            surnames.push(syllable_name(rng));
        }
        NamePools {
            // Offsets chosen so that the most common given name is ~2 % and
            // the most common surname ~1 % of the population (measured
            // shares are printed by the scale example).
            given_zipf: Zipf::with_offset(given.len(), 5.0),
            surname_zipf: Zipf::with_offset(surnames.len(), 10.0),
            given,
            surnames,
        }
    }

    /// Shares of the most common given name and surname.
    pub fn head_shares(&self) -> (f64, f64) {
        (self.given_zipf.share(0), self.surname_zipf.share(0))
    }

    pub fn person_name(&self, rng: &mut Rng) -> String {
        let mut parts = vec![self.given[self.given_zipf.sample(rng)].clone()];
        if rng.chance(0.35) {
            parts.push(self.given[self.given_zipf.sample(rng)].clone());
        }
        parts.push(self.surnames[self.surname_zipf.sample(rng)].clone());
        if rng.chance(0.15) {
            parts.push(self.surnames[self.surname_zipf.sample(rng)].clone());
        }
        parts.join(" ")
    }
}

const TOPICS: &[&str] = &[
    "sanction", "role.pep", "role.pep", "role.rca", "crime", "poi",
];
const COUNTRIES: &[&str] = &[
    "ru", "ir", "cn", "us", "gb", "de", "fr", "sy", "ve", "mx", "ng", "in", "br", "tr", "ae",
];

/// `n` synthetic Person entities (ids `{prefix}-{i}`), with birth dates and
/// nationalities on most of them.
pub fn synthetic_people(
    pools: &NamePools,
    rng: &mut Rng,
    n: usize,
    prefix: &str,
    dataset: &str,
) -> Vec<Entity> {
    (0..n)
        .map(|i| {
            let mut e = Entity::new(format!("{prefix}-{i}"), Schema::Person);
            let name = pools.person_name(rng);
            e.caption = name.clone();
            e.properties.add("name", name);
            if rng.chance(0.2) {
                e.properties.add("alias", pools.person_name(rng));
            }
            if rng.chance(0.7) {
                let y = 1940 + rng.below(66);
                if rng.chance(0.7) {
                    e.properties.add(
                        "birthDate",
                        format!("{y}-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
                    );
                } else {
                    e.properties.add("birthDate", y.to_string());
                }
            }
            if rng.chance(0.6) {
                e.properties.add("nationality", *rng.pick(COUNTRIES));
            }
            e.properties.add("topics", *rng.pick(TOPICS));
            e.datasets = vec![dataset.to_string()];
            e
        })
        .collect()
}

/// A synthetic watch-list dataset (the evaluation fallback): unlike a
/// population, a list holds distinct names, so names are drawn uniformly
/// from wide pools (common names plus made-up ones) and de-duplicated.
pub fn synthetic_dataset(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut given: Vec<String> = FIRST_NAMES.iter().map(|s| s.to_string()).collect();
    let mut surnames: Vec<String> = SURNAMES.iter().map(|s| s.to_string()).collect();
    for _ in 0..(n / 10).max(200) {
        given.push(syllable_name(&mut rng));
    }
    for _ in 0..(n / 2).max(1000) {
        surnames.push(syllable_name(&mut rng));
    }
    let mut seen = std::collections::HashSet::new();
    let mut ds = Dataset::new("synthetic", "1", None);
    while ds.entities.len() < n {
        let mut parts = vec![rng.pick(&given).clone()];
        if rng.chance(0.4) {
            parts.push(rng.pick(&given).clone());
        }
        parts.push(rng.pick(&surnames).clone());
        let name = parts.join(" ");
        if !seen.insert(name.clone()) {
            continue;
        }
        let mut e = Entity::new(format!("synth-{}", ds.entities.len()), Schema::Person);
        e.caption = name.clone();
        e.properties.add("name", name);
        e.properties.add("topics", *rng.pick(TOPICS));
        e.datasets = vec!["synthetic".to_string()];
        ds.entities.push(e);
    }
    ds
}

/// Shape of a generated population, for reports.
#[derive(Debug, Clone, Copy)]
pub struct PopulationStats {
    pub given_names: usize,
    pub surnames: usize,
    pub top_given_share: f64,
    pub top_surname_share: f64,
}

/// The benchmark population: `n` generated people whose given names and
/// surnames follow a Zipf distribution over pools seeded with the common
/// names above and the tokens of `seed_list` (e.g. the SDN), with a long
/// tail of made-up names, plus the entities of `seed_list` themselves.
pub fn scale_population(
    n: usize,
    seed: u64,
    seed_list: Option<&Dataset>,
) -> (Dataset, PopulationStats) {
    let mut rng = Rng::new(seed);
    let (mut given, mut surnames) = (Vec::new(), Vec::new());
    if let Some(list) = seed_list {
        for e in &list.entities {
            if e.schema != Schema::Person {
                continue;
            }
            if let Some((last, first)) = e.caption.split_once(',') {
                surnames.extend(last.split_whitespace().map(str::to_string));
                given.extend(first.split_whitespace().map(str::to_string));
            }
        }
        given.sort();
        given.dedup();
        surnames.sort();
        surnames.dedup();
    }
    let pools = NamePools::new(&mut rng, &given, &surnames, (n / 8).max(1000));
    let (g, f) = pools.head_shares();
    let stats = PopulationStats {
        given_names: pools.given.len(),
        surnames: pools.surnames.len(),
        top_given_share: g,
        top_surname_share: f,
    };
    let mut ds = Dataset::new("scale", "1", None);
    if let Some(list) = seed_list {
        ds.entities.extend(list.entities.iter().cloned());
    }
    let people = synthetic_people(
        &pools,
        &mut rng,
        n.saturating_sub(ds.entities.len()),
        "gen",
        "scale",
    );
    ds.entities.extend(people);
    (ds, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_zipfian() {
        let a = synthetic_dataset(50, 7);
        let b = synthetic_dataset(50, 7);
        assert_eq!(a.entities, b.entities);
        let z = Zipf::new(1000);
        let mut rng = Rng::new(1);
        let head = (0..10_000).filter(|_| z.sample(&mut rng) < 10).count();
        // H(10)/H(1000) ≈ 0.39
        assert!((3000..5000).contains(&head), "{head}");
    }
}
