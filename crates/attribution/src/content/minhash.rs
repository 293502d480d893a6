//! Near-duplicate detection with MinHash signatures.
//!
//! A datanet should not pay twice for the same text lightly edited. Each
//! contribution gets a [`MinHash`] signature of [`SIGNATURE_LEN`] slots;
//! the share of slots two signatures agree on estimates the Jaccard
//! similarity of their shingle sets, and locality-sensitive hashing over
//! [`BANDS`] bands of [`ROWS_PER_BAND`] slots finds candidate pairs without
//! comparing every pair.
//!
//! # Definition
//!
//! Everything here is integer arithmetic on fixed constants, so a signature
//! is the same on every machine and in every version of every dependency.
//!
//! - **Words.** The rows are read in order as one text; it is lowercased
//!   character by character (`char::to_lowercase`) and split into *words*,
//!   maximal runs of alphanumeric characters (`char::is_alphanumeric`);
//!   everything else (spaces, punctuation, markup, row breaks) only
//!   separates words. So case, punctuation and layout edits do not count.
//!   (Scripts written without spaces, such as Chinese, make long words; such
//!   texts match only when nearly identical.)
//! - **Word hash.** `w = fnv1a64(UTF-8 bytes of the word)` (64-bit FNV-1a:
//!   offset basis `0xcbf29ce484222325`, prime `0x100000001b3`).
//! - **Shingles.** Every run of [`SHINGLE_WORDS`] consecutive words is a
//!   shingle; a text of fewer words is one shingle of all of them (possibly
//!   none). A shingle's hash is `x = mix64(fnv1a64(w₁ ‖ … ‖ wₖ))`, the word
//!   hashes as 8-byte little-endian strings, where `mix64` is the SplitMix64
//!   finaliser.
//! - **Slots.** Slot `i` holds `min over shingles of ((aᵢ·x + bᵢ) mod 2⁶⁴) >> 32`,
//!   a multiply-shift hash family. `aᵢ` (made odd) and `bᵢ` are the
//!   SplitMix64 outputs `2i` and `2i+1` from the seed `0x4f70656e4c656467`
//!   (ASCII "OpenLedg"); see [`HASH_FAMILY`].
//! - **Bands.** Band `b` covers slots `4b..4b+4`; its key is
//!   `mix64(fnv1a64([b] ‖ the four slots as 4-byte little-endian))`.

use super::ContentError;

/// Slots in a signature.
pub const SIGNATURE_LEN: usize = 64;

/// Words per shingle.
pub const SHINGLE_WORDS: usize = 5;

/// Slots that must agree for two contributions to be near-duplicates: 48 of
/// 64, an estimated Jaccard similarity of at least 0.75. At that similarity
/// two texts share three quarters of their 5-word phrases — a light edit
/// of the same text, not two texts on one topic (which share far fewer
/// 5-word phrases). The estimate's standard deviation at J = 0.75 with 64
/// slots is about 0.054, so pairs near the line may fall either side; that
/// is the price of 256-byte signatures.
pub const NEAR_DUPLICATE_MIN_AGREEING: u32 = 48;

/// LSH bands.
pub const BANDS: usize = 16;

/// Slots per LSH band. With 16 bands of 4, a pair at Jaccard 0.75 shares at
/// least one band key with probability 1 − (1 − 0.75⁴)¹⁶ ≈ 0.998; at 0.5,
/// ≈ 0.64; at 0.3, ≈ 0.12.
pub const ROWS_PER_BAND: usize = SIGNATURE_LEN / BANDS;

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const SEED: u64 = 0x4f70_656e_4c65_6467;

/// The multiply-shift hash family: `(aᵢ, bᵢ)` for every slot, `aᵢ` odd.
pub const HASH_FAMILY: [(u64, u64); SIGNATURE_LEN] = hash_family();

const fn hash_family() -> [(u64, u64); SIGNATURE_LEN] {
    let mut family = [(0, 0); SIGNATURE_LEN];
    let mut state = SEED;
    let mut i = 0;
    while i < SIGNATURE_LEN {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let a = mix64(state) | 1;
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let b = mix64(state);
        family[i] = (a, b);
        i += 1;
    }
    family
}

/// The SplitMix64 finaliser: spreads every input bit over the output.
const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn fnv1a64(state: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(state, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME))
}

/// A MinHash signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MinHash(pub [u32; SIGNATURE_LEN]);

impl MinHash {
    /// Bytes of [`MinHash::to_bytes`].
    pub const BYTES: usize = SIGNATURE_LEN * 4;

    /// Slots equal in both signatures (0..=64).
    pub fn agreeing(&self, other: &MinHash) -> u32 {
        self.0.iter().zip(&other.0).map(|(a, b)| u32::from(a == b)).sum()
    }

    /// Estimated Jaccard similarity of the two shingle sets.
    pub fn estimated_jaccard(&self, other: &MinHash) -> f64 {
        f64::from(self.agreeing(other)) / SIGNATURE_LEN as f64
    }

    /// Whether at least [`NEAR_DUPLICATE_MIN_AGREEING`] slots agree.
    pub fn is_near_duplicate(&self, other: &MinHash) -> bool {
        self.agreeing(other) >= NEAR_DUPLICATE_MIN_AGREEING
    }

    /// One key per LSH band; near-duplicates very likely share one.
    pub fn band_keys(&self) -> [u64; BANDS] {
        let mut keys = [0; BANDS];
        for (band, (key, slots)) in
            keys.iter_mut().zip(self.0.chunks_exact(ROWS_PER_BAND)).enumerate()
        {
            let band = u8::try_from(band).expect("there are 16 bands");
            let mut hash = fnv1a64(FNV_OFFSET_BASIS, &[band]);
            for slot in slots {
                hash = fnv1a64(hash, &slot.to_le_bytes());
            }
            *key = mix64(hash);
        }
        keys
    }

    /// The slots as 256 little-endian bytes.
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let mut bytes = [0; Self::BYTES];
        for (chunk, slot) in bytes.chunks_exact_mut(4).zip(&self.0) {
            chunk.copy_from_slice(&slot.to_le_bytes());
        }
        bytes
    }

    /// The signature of [`MinHash::to_bytes`].
    pub fn from_bytes(bytes: &[u8; Self::BYTES]) -> MinHash {
        let mut slots = [0; SIGNATURE_LEN];
        for (slot, chunk) in slots.iter_mut().zip(bytes.chunks_exact(4)) {
            *slot = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        MinHash(slots)
    }

    /// [`MinHash::from_bytes`] of a slice, which must be 256 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<MinHash, ContentError> {
        let bytes: &[u8; Self::BYTES] = bytes
            .try_into()
            .map_err(|_| ContentError::MinHashLength { len: bytes.len(), expected: Self::BYTES })?;
        Ok(MinHash::from_bytes(bytes))
    }
}

/// The signature of normalised rows (see the module documentation).
pub fn minhash(rows: &[String]) -> MinHash {
    let mut signature = Signature::new();
    let mut window = [0u64; SHINGLE_WORDS];
    let mut words = 0usize;
    for_each_word(rows, |word| {
        window.rotate_left(1);
        window[SHINGLE_WORDS - 1] = word;
        words += 1;
        if words >= SHINGLE_WORDS {
            signature.add(shingle_hash(&window));
        }
    });
    if words < SHINGLE_WORDS {
        signature.add(shingle_hash(&window[SHINGLE_WORDS - words..]));
    }
    MinHash(signature.0)
}

/// Calls `f` with the hash of every word of the rows, in order.
fn for_each_word(rows: &[String], mut f: impl FnMut(u64)) {
    let mut hash = FNV_OFFSET_BASIS;
    let mut in_word = false;
    let mut buffer = [0u8; 4];
    for row in rows {
        // A row break separates words like any other non-alphanumeric.
        for c in row.chars().chain(std::iter::once('\n')) {
            if c.is_alphanumeric() {
                for lower in c.to_lowercase() {
                    hash = fnv1a64(hash, lower.encode_utf8(&mut buffer).as_bytes());
                }
                in_word = true;
            } else if in_word {
                f(hash);
                hash = FNV_OFFSET_BASIS;
                in_word = false;
            }
        }
    }
}

fn shingle_hash(words: &[u64]) -> u64 {
    mix64(words.iter().fold(FNV_OFFSET_BASIS, |hash, word| fnv1a64(hash, &word.to_le_bytes())))
}

struct Signature([u32; SIGNATURE_LEN]);

impl Signature {
    fn new() -> Self {
        Signature([u32::MAX; SIGNATURE_LEN])
    }

    fn add(&mut self, shingle: u64) {
        for (slot, (a, b)) in self.0.iter_mut().zip(HASH_FAMILY) {
            let value = (a.wrapping_mul(shingle).wrapping_add(b) >> 32) as u32;
            *slot = (*slot).min(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A deterministic pseudo-random text of `words` words.
    fn text(seed: u64, words: usize) -> String {
        const VOCABULARY: [&str; 32] = [
            "ledger", "model", "data", "token", "reward", "stake", "agent", "block", "chain",
            "proof", "river", "mountain", "green", "quickly", "under", "over", "seven", "paper",
            "window", "garden", "signal", "winter", "copper", "silent", "orange", "market",
            "thunder", "pencil", "harbour", "violet", "engine", "candle",
        ];
        let mut state = seed;
        (0..words)
            .map(|_| {
                state = mix64(state.wrapping_add(0x9e37_79b9_7f4a_7c15));
                VOCABULARY[(state % 32) as usize]
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn fnv_and_family_match_their_definitions() {
        // FNV-1a 64 test vectors from the reference implementation.
        assert_eq!(fnv1a64(FNV_OFFSET_BASIS, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(FNV_OFFSET_BASIS, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(FNV_OFFSET_BASIS, b"foobar"), 0x8594_4171_f739_67e8);
        // SplitMix64 from seed 0 gives 0xe220a8397b1dcdaf first.
        assert_eq!(mix64(0x9e37_79b9_7f4a_7c15), 0xe220_a839_7b1d_cdaf);
        assert!(HASH_FAMILY.iter().all(|(a, _)| a % 2 == 1));
    }

    #[test]
    fn signature_is_pinned() {
        // Values from an independent Python rendering of the module
        // documentation. Changing any constant or rule changes them, and
        // stored signatures would stop matching new ones.
        let signature = minhash(&["The quick brown fox jumps over the lazy dog.".to_string()]);
        assert_eq!(signature.0[..4], [0x3e21_cdaa, 0x3fcf_42f0, 0x4bc3_21c8, 0x2dcc_ad45]);
        let keys = signature.band_keys();
        assert_eq!((keys[0], keys[15]), (0x7566_5cf9_b16c_cdc4, 0xfef7_71e9_6ec0_c3be));
    }

    #[test]
    fn identical_texts_agree_everywhere() {
        let rows = vec![text(1, 300)];
        assert_eq!(minhash(&rows).agreeing(&minhash(&rows)), 64);
    }

    #[test]
    fn case_punctuation_and_layout_do_not_count() {
        let plain = vec!["the quick brown fox jumps over the lazy dog".to_string()];
        let styled =
            vec!["The *quick* brown fox —".to_string(), "jumps over, the LAZY dog!".to_string()];
        assert_eq!(minhash(&plain), minhash(&styled));
    }

    #[test]
    fn a_small_edit_is_a_near_duplicate() {
        let original = text(7, 400);
        let mut words: Vec<&str> = original.split(' ').collect();
        words[200] = "zebra";
        words.remove(100);
        let edited = words.join(" ");
        let agreeing = minhash(&[original]).agreeing(&minhash(&[edited]));
        assert!(agreeing >= 56, "{agreeing} slots agree");
    }

    #[test]
    fn unrelated_texts_are_not() {
        let a = minhash(&[text(1, 400)]);
        let b = minhash(&[text(2, 400)]);
        assert!(a.agreeing(&b) <= 8, "{} slots agree", a.agreeing(&b));
        assert!(!a.is_near_duplicate(&b));
        let shared = a.band_keys().iter().zip(b.band_keys()).filter(|(x, y)| **x == *y).count();
        assert_eq!(shared, 0);
    }

    #[test]
    fn short_and_empty_texts_have_signatures() {
        let short = minhash(&["two words".to_string()]);
        assert_eq!(short, minhash(&["Two, words.".to_string()]));
        assert_ne!(short, minhash(&["three short words".to_string()]));
        assert_eq!(minhash(&[]), minhash(&["...".to_string()]));
    }

    #[test]
    fn byte_form() {
        let signature = minhash(&[text(3, 50)]);
        assert_eq!(MinHash::from_bytes(&signature.to_bytes()), signature);
        assert_eq!(MinHash::from_slice(&signature.to_bytes()), Ok(signature));
        assert_eq!(
            MinHash::from_slice(&[0; 255]),
            Err(ContentError::MinHashLength { len: 255, expected: 256 })
        );
        assert_eq!(signature.to_bytes()[..4], signature.0[0].to_le_bytes());
    }

    proptest! {
        #[test]
        fn deterministic_and_symmetric(a in "[a-z ]{0,200}", b in "[a-z ]{0,200}") {
            let (x, y) = (minhash(std::slice::from_ref(&a)), minhash(&[b]));
            prop_assert_eq!(x, minhash(std::slice::from_ref(&a)));
            prop_assert_eq!(x.band_keys(), minhash(&[a]).band_keys());
            prop_assert_eq!(x.agreeing(&y), y.agreeing(&x));
            prop_assert_eq!(x.agreeing(&y) == 64, x == y);
        }

        #[test]
        fn row_breaks_are_word_breaks(words in proptest::collection::vec("[a-z]{1,6}", 1..40), split in 0usize..40) {
            let split = split.min(words.len());
            let whole = vec![words.join(" ")];
            let rows = vec![words[..split].join(" "), words[split..].join(" ")];
            prop_assert_eq!(minhash(&whole), minhash(&rows));
        }

        #[test]
        fn bytes_round_trip(slots in proptest::array::uniform32(any::<u32>())) {
            let mut full = [0u32; SIGNATURE_LEN];
            full[..32].copy_from_slice(&slots);
            full[32..].copy_from_slice(&slots);
            let signature = MinHash(full);
            prop_assert_eq!(MinHash::from_bytes(&signature.to_bytes()), signature);
        }
    }
}
