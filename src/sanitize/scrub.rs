//! The fail-closed second pass: a secret taken out in one place must not
//! survive in another (the same password unmarked in a file, a token
//! repeated under an innocent name). [`Finder`] finds the text of every
//! secret redacted anywhere; the values that still hold one are decided
//! again and become redactions. Only values are searched, never keys, and
//! never text shorter than [`MIN_LEN`].

use aho_corasick::AhoCorasick;

use super::{one_of, REDACTED};

/// Secret text shorter than this is not hunted for elsewhere: short values
/// (`1234`, `admin`) turn up in ordinary config by chance.
pub const MIN_LEN: usize = 8;

/// The reason a value is redacted by this pass.
pub const REASON: &str = "holds the text of a secret redacted elsewhere";

/// Marks text the deploy record itself called secret: it is hunted
/// whatever it looks like.
const CERTAIN: &str = "\u{0}";

/// `text` as taken out of a value the deploy record marked secret.
pub fn certain(text: &str) -> String {
    format!("{CERTAIN}{text}")
}

/// Whether text taken out could be recognised elsewhere as the secret: a
/// word, a host name or a path that a name made secret (`password`,
/// `login.example.com`) is ordinary anywhere else, and hunting it would
/// damage every value that mentions it.
fn distinctive(s: &str) -> bool {
    let plain = s.bytes().all(|b| b.is_ascii_alphabetic() || one_of(b, b"._-/:"));
    !plain || (s.len() >= 20 && super::detect::looks_random(s))
}

/// The text to hunt for in `removed` (as taken out of a value): marked
/// secrets whatever they look like, others when distinctive; never text
/// shorter than [`MIN_LEN`].
fn worth_hunting(removed: &str) -> Option<&str> {
    let p = match removed.strip_prefix(CERTAIN) {
        Some(marked) => marked.trim(),
        None => Some(removed.trim()).filter(|p| distinctive(p))?,
    };
    (p.len() >= MIN_LEN && p != REDACTED).then_some(p)
}

/// The secrets worth hunting among `removed`, sorted and without repeats.
/// Each part of the sanitizer's pool runs this on its own core, so that
/// [`Finder::merged`] only merges.
pub fn hunted(removed: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = removed
        .into_iter()
        .filter_map(|p| match worth_hunting(&p) {
            Some(s) if s.len() == p.len() => Some(p),
            Some(s) => Some(s.to_string()),
            None => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Finds any of many secrets in text. The automaton holds only their first
/// [`MIN_LEN`] bytes (far fewer states to build and walk than the whole
/// secrets); each hit is confirmed against the secrets with that start.
/// The secrets are kept sorted, so those sharing a start are one run of
/// them: building it hashes nothing (it runs on one core, after the files).
pub struct Finder<'a> {
    /// The starts, for [`Finder::replace`] (rare: only values that hold a
    /// secret are rewritten).
    starts: AhoCorasick,
    /// The same starts by their 4-byte blocks, for [`Finder::contains`].
    blocks: Blocks,
    /// Every secret, sorted and without repeats.
    secrets: Vec<&'a str>,
    /// Per start (the automaton's pattern): its run in `secrets`, and the
    /// lengths its secrets have, longest first.
    runs: Vec<(std::ops::Range<usize>, Vec<usize>)>,
}

impl<'a> Finder<'a> {
    /// A finder for the secrets of lists made by [`hunted`] (each already
    /// sorted): one merge of sorted runs, the part of the scrub that runs
    /// on one core. None when no secret is long enough to hunt. An
    /// automaton that cannot be built is an error: the caller must not go
    /// on as if nothing repeated.
    pub fn merged(parts: &'a [Vec<String>]) -> Result<Option<Finder<'a>>, String> {
        let mut secrets: Vec<&str> = parts.iter().flatten().map(String::as_str).collect();
        // A stable sort finds the parts' sorted runs and merges them.
        secrets.sort();
        secrets.dedup();
        if secrets.is_empty() {
            return Ok(None);
        }
        Finder::new(secrets).map(Some)
    }

    fn new(secrets: Vec<&'a str>) -> Result<Finder<'a>, String> {
        fn start(s: &str) -> &[u8] {
            &s.as_bytes()[..MIN_LEN]
        }
        let mut starts: Vec<&[u8]> = Vec::new();
        let mut runs: Vec<(std::ops::Range<usize>, Vec<usize>)> = Vec::new();
        for (i, s) in secrets.iter().enumerate() {
            match runs.last_mut() {
                Some((run, lengths)) if start(secrets[run.start]) == start(s) => {
                    run.end = i + 1;
                    if !lengths.contains(&s.len()) {
                        lengths.push(s.len());
                    }
                }
                _ => {
                    starts.push(start(s));
                    runs.push((i..i + 1, vec![s.len()]));
                }
            }
        }
        for (_, lengths) in &mut runs {
            lengths.sort_unstable_by(|a, b| b.cmp(a));
        }
        let blocks = Blocks::new(&starts);
        let starts = AhoCorasick::new(&starts).map_err(|e| e.to_string())?;
        Ok(Finder { starts, blocks, secrets, runs })
    }

    /// The (start, length) of each secret in `text`, left to right.
    fn hits(&self, text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut next = 0;
        for m in self.starts.find_overlapping_iter(text) {
            if m.start() < next {
                continue;
            }
            if let Some(len) = self.secret_at(text, m.start(), m.pattern().as_usize()) {
                out.push((m.start(), len));
                next = m.start() + len;
            }
        }
        out
    }

    /// The length of the longest secret with start `start` (the automaton's
    /// pattern) found at byte `at` of `text`.
    fn secret_at(&self, text: &str, at: usize, start: usize) -> Option<usize> {
        let rest = &text[at..];
        let (run, lengths) = &self.runs[start];
        let run = &self.secrets[run.clone()];
        lengths.iter().copied().find(|&l| rest.get(..l).is_some_and(|head| run.binary_search(&head).is_ok()))
    }

    /// Whether `text` holds any of the secrets: one pass, which ends at the
    /// first. (Stand-ins keep a secret's prefix, `sk_live_…`: a text full of
    /// starts that are no secret is common, and was read twice before.)
    ///
    /// It reads one 4-byte block in four ([`Blocks`]): a secret is at least
    /// [`MIN_LEN`] (8) bytes, so wherever one starts, a block at a multiple
    /// of 4 lies within its first 7 bytes, and names the starts it can be.
    pub fn contains(&self, text: &str) -> bool {
        let b = text.as_bytes();
        if b.len() < MIN_LEN {
            return false;
        }
        let mut from = 0;
        while let Some(k) = self.blocks.next_held(b, from) {
            // (Read again: returning it from the loop above slowed the loop.)
            let block = u32::from_le_bytes(b[k * 4..k * 4 + 4].try_into().expect("4 bytes"));
            for &(_, start, offset) in self.blocks.named(block) {
                let Some(at) = (k * 4).checked_sub(usize::from(offset)) else { continue };
                if text.is_char_boundary(at) && self.secret_at(text, at, start as usize).is_some() {
                    return true;
                }
            }
            from = k + 1;
        }
        false
    }

    /// The pieces to look through `text` in, on several cores: each about
    /// [`PIECE`] bytes, reaching the longest secret's length (less one
    /// byte) into the next, so a secret that starts in a piece ends in it.
    pub fn pieces(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        let reach = self.secrets.iter().map(|s| s.len()).max().unwrap_or(0).saturating_sub(1);
        let mut out = Vec::with_capacity(text.len() / PIECE + 1);
        let mut start = 0;
        loop {
            let end = ceil_char_boundary(text, start + PIECE);
            out.push(start..ceil_char_boundary(text, end + reach));
            if end >= text.len() {
                return out;
            }
            start = end;
        }
    }

    /// `text` with every secret replaced, or None when it holds none.
    pub fn replace(&self, text: &str) -> Option<String> {
        let hits = self.hits(text);
        if hits.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for (start, len) in hits {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = start + len;
        }
        out.push_str(&text[copied..]);
        Some(out)
    }
}

/// The 4-byte blocks at offsets 0 to 3 of every secret's start (its first
/// [`MIN_LEN`] bytes), each with the start it belongs to: a text is read a
/// block in four against a bit table of them, and only a block the table
/// holds is looked up.
struct Blocks {
    /// One bit per hash of a block ([`TABLE_BITS`] of them: a fixed size,
    /// so that reading it needs no bounds check).
    bits: Box<[u64; TABLE_WORDS]>,
    /// (block, start, offset), sorted.
    named: Vec<(u32, u32, u8)>,
}

// The blocks at offsets 0 to 3 end within a start's first 7 bytes, and a
// secret that starts anywhere holds a whole block at a multiple of 4 only
// if it is 7 bytes or more.
const _: () = assert!(MIN_LEN >= 7);

/// A 128 KiB table: the starts of 12,000 secrets (48,000 blocks) set about
/// one bit in twenty, so about one block in twenty is looked up.
const TABLE_BITS: u32 = 20;
const TABLE_WORDS: usize = 1 << (TABLE_BITS - 6);

impl Blocks {
    fn new(starts: &[&[u8]]) -> Blocks {
        let mut named: Vec<(u32, u32, u8)> = Vec::with_capacity(starts.len() * 4);
        for (i, s) in starts.iter().enumerate() {
            for o in 0..4 {
                let block = u32::from_le_bytes([s[o], s[o + 1], s[o + 2], s[o + 3]]);
                named.push((block, i as u32, o as u8));
            }
        }
        named.sort_unstable();
        named.dedup();
        let mut bits: Box<[u64; TABLE_WORDS]> =
            vec![0u64; TABLE_WORDS].into_boxed_slice().try_into().expect("the table's size");
        for &(block, _, _) in &named {
            let h = hash(block);
            bits[h >> 6] |= 1 << (h & 63);
        }
        Blocks { bits, named }
    }

    /// The index of the first 4-byte block of `b` from block `from` on that
    /// the table holds (a hash collision too), if any. The loop every byte
    /// goes through: nothing else in it.
    fn next_held(&self, b: &[u8], from: usize) -> Option<usize> {
        b.chunks_exact(4)
            .skip(from)
            .position(|c| {
                let h = hash(u32::from_le_bytes(c.try_into().expect("4 bytes")));
                self.bits[h >> 6] & (1 << (h & 63)) != 0
            })
            .map(|i| from + i)
    }

    /// The (block, start, offset) entries of `block`.
    fn named(&self, block: u32) -> &[(u32, u32, u8)] {
        let from = self.named.partition_point(|e| e.0 < block);
        let to = from + self.named[from..].partition_point(|e| e.0 == block);
        &self.named[from..to]
    }
}

/// A block's place in the table: multiply-shift, the top bits of the product.
fn hash(block: u32) -> usize {
    (u64::from(block).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - TABLE_BITS)) as usize
}

/// About how many bytes of one text [`Finder::pieces`] gives a core.
pub const PIECE: usize = 256 << 10;

/// The first char boundary of `text` at or after `at` (its length past the end).
fn ceil_char_boundary(text: &str, at: usize) -> usize {
    (at..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_secrets_that_share_a_start() {
        let removed = ["s3cr3t-10-pw".to_string(), "s3cr3t-1-pw".into(), "AKIAIOSFODNN7EXAMPLE".into(), "short".into()];
        let parts = [hunted(removed.to_vec())];
        let f = Finder::merged(&parts).unwrap().unwrap();
        assert_eq!(
            f.replace("a s3cr3t-10-pw b s3cr3t-1-pw c AKIAIOSFODNN7EXAMPLE").unwrap(),
            "a prodbox-redacted b prodbox-redacted c prodbox-redacted"
        );
        assert_eq!(f.replace("s3cr3t-2-pw short"), None);
        for text in
            ["a s3cr3t-10-pw b", "s3cr3t-1-pw", "xAKIAIOSFODNN7EXAMPLEx", "s3cr3t-1-p", "é s3cr3t-1-pw é", "short"]
        {
            assert_eq!(f.contains(text), !f.hits(text).is_empty(), "{text}");
        }
        // Overlapping starts: the second one is the secret.
        let one = [hunted(vec!["aaaaaaaab-s3cret!".to_string()])];
        let f = Finder::merged(&one).unwrap().unwrap();
        assert!(f.contains("aaaaaaaaaaaaaaaaab-s3cret!!"));
        assert!(!f.contains("aaaaaaaaaaaaaaaaab-s3cre"));
        assert!(Finder::merged(&[hunted(vec!["short".to_string()])]).unwrap().is_none());
    }

    #[test]
    fn contains_finds_what_the_automaton_finds() {
        let secrets: Vec<String> = vec![
            "s3cr3t-10-pw".into(),
            "s3cr3t-1-pw".into(),
            "AKIAIOSFODNN7EXAMPLE".into(),
            "pässwörd-Ω-42".into(),
            "aaaaaaaab-s3cret!".into(),
            "12345678".into(),
        ];
        let parts = [hunted(secrets.clone())];
        let f = Finder::merged(&parts).unwrap().unwrap();
        // Every secret at every offset, in ASCII and two-byte text, cut short or whole.
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let fillers = ["abcdefgh", "é", "aaaa", "s3cr3t-", "1234567", " "];
        let mut seen_true = 0;
        for round in 0..4000 {
            let mut text = String::new();
            for _ in 0..next(6) {
                text.push_str(fillers[next(fillers.len())]);
            }
            let s = &secrets[next(secrets.len())];
            let cut = if round % 3 == 0 { s.len() - 1 - next(3) } else { s.len() };
            let cut = (0..=cut).rev().find(|&c| s.is_char_boundary(c)).unwrap();
            text.push_str(&s[..cut]);
            for _ in 0..next(3) {
                text.push_str(fillers[next(fillers.len())]);
            }
            let expected = !f.hits(&text).is_empty();
            assert_eq!(f.contains(&text), expected, "{text:?}");
            seen_true += usize::from(expected);
        }
        assert!(seen_true > 1000 && seen_true < 3900);
    }

    #[test]
    fn pieces_hold_every_secret_that_starts_in_them() {
        let one = [hunted(vec!["s3cr3t-across-pieces".to_string()])];
        let f = Finder::merged(&one).unwrap().unwrap();
        let filler = "é".repeat(PIECE / 2 - 3);
        // The secret starts a few bytes before the first piece's end, in text of two-byte chars.
        let text = format!("{filler}ab s3cr3t-across-pieces {filler}{filler}");
        let pieces = f.pieces(&text);
        assert!(pieces.len() >= 2 && pieces[0].start == 0 && pieces.last().unwrap().end == text.len());
        assert!(pieces.windows(2).all(|w| w[0].end > w[1].start && w[1].start > w[0].start));
        assert!(pieces.iter().any(|p| f.contains(&text[p.clone()])));
        assert_eq!(f.pieces("short text"), vec![0..10]);
        assert_eq!(f.pieces(""), vec![0..0]);
    }
}
