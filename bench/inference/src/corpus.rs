//! The datanet's text, made here from a seed: short documents of
//! sentences over a small vocabulary, so a tiny byte-level model learns their
//! words in seconds and its output shares spans with them (which is what
//! attribution needs to find).

/// A small, fast, deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `[-1, 1)`.
    pub(crate) fn signed_unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

const SUBJECTS: &[&str] = &[
    "the harbour master",
    "a fishing boat",
    "the old lighthouse",
    "the night ferry",
    "a cargo ship",
    "the tide",
    "the pilot",
    "a storm from the west",
    "the crew",
    "the quay",
    "a gull",
    "the coast guard",
    "the morning fog",
    "the captain",
];
const VERBS: &[&str] = &[
    "watches",
    "leaves",
    "reaches",
    "follows",
    "crosses",
    "waits for",
    "signals to",
    "passes",
    "turns toward",
    "rests beside",
    "calls",
    "guides",
];
const OBJECTS: &[&str] = &[
    "the breakwater",
    "the northern channel",
    "the red buoy",
    "the sleeping town",
    "the grey water",
    "the long pier",
    "the fish market",
    "the open sea",
    "the stone steps",
    "the harbour wall",
    "the rocks below",
    "the evening bell",
];
const ENDINGS: &[&str] = &[
    "before dawn",
    "in the rain",
    "at low tide",
    "without a sound",
    "as the lamps come on",
    "once again",
    "under a pale moon",
    "after the storm",
    "for the last time",
];

/// One sentence.
fn sentence(rng: &mut Rng) -> String {
    let pick = |rng: &mut Rng, words: &[&str]| words[rng.below(words.len())].to_owned();
    let mut s = format!("{} {} {}", pick(rng, SUBJECTS), pick(rng, VERBS), pick(rng, OBJECTS));
    if rng.below(2) == 0 {
        s.push(' ');
        s.push_str(&pick(rng, ENDINGS));
    }
    s.push_str(". ");
    let mut chars = s.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or(s)
}

/// `count` documents of about `bytes` bytes each, from `seed`.
pub(crate) fn documents(seed: u64, count: usize, bytes: usize) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let mut doc = String::with_capacity(bytes + 64);
            while doc.len() < bytes {
                doc.push_str(&sentence(&mut rng));
            }
            doc.trim_end().to_owned()
        })
        .collect()
}
