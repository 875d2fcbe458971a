//! The journal's bytes. A header, then chunks sealed with XChaCha20-Poly1305 in the STREAM
//! construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015):
//!
//! ```text
//! header (56 bytes)
//!   0  magic  "SOTTOAUD"
//!   8  version (1)            9  sample format (1: i16 little-endian, mono)
//!  10  reserved (2 bytes, 0)  12  sample rate (u32 LE)  16  samples per chunk (u32 LE)
//!  20  nonce prefix (19 random bytes)                   39  reserved (1 byte, 0)
//!  40  key check: the tag of an empty message, nonce prefix || FFFFFFFF || 02
//! chunk i (every chunk but the last holds exactly "samples per chunk" samples)
//!   seal(i16 LE samples), nonce = prefix || i as u32 BE || last (0 or 1), AAD = header[0..40]
//! ```
//!
//! XChaCha20 derives a subkey from the first 16 nonce bytes (HChaCha20), so with the random
//! prefix every file is sealed under its own key; the data key is first separated from its
//! database use by hashing it with a domain label. Chunk positions are fixed, so a range is read
//! by seeking; the counter in the nonce catches reordered or dropped chunks, the last flag a cut
//! at a chunk boundary, and the header as AAD any change to the rate or chunk size. Only the
//! final chunk may be shorter (it may hold no samples): a file without one is unfinished.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::vault::Key;

/// The first bytes of every recording.
pub const MAGIC: &[u8; 8] = b"SOTTOAUD";
/// The format version written.
pub const VERSION: u8 = 1;
/// Sample format 1: signed 16-bit little-endian, one channel.
const FORMAT_I16_MONO: u8 = 1;
/// Header bytes covered by the key check and bound to every chunk.
pub const AAD_LEN: usize = 40;
/// Poly1305 tag bytes.
pub const TAG_LEN: usize = 16;
/// Header length on disk.
pub const HEADER_LEN: usize = AAD_LEN + TAG_LEN;
/// Random nonce prefix bytes (the rest of the 24: counter and last flag).
pub const PREFIX_LEN: usize = 19;
/// Bytes per stored sample.
pub const SAMPLE_BYTES: usize = 2;
/// Counter reserved for the key check, never a chunk's.
const KEY_CHECK_COUNTER: u32 = u32::MAX;

/// A parsed header with the file's cipher.
pub struct Header {
    /// The authenticated header bytes.
    pub aad: [u8; AAD_LEN],
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Samples in every chunk but the last.
    pub chunk_samples: u32,
    prefix: [u8; PREFIX_LEN],
    cipher: XChaCha20Poly1305,
}

/// A chunk or key check that does not authenticate.
#[derive(Debug)]
pub struct BadTag;

/// Why header bytes were refused.
pub enum HeaderError {
    /// Wrong magic or too short.
    NotARecording,
    /// A version this build does not read.
    Version(u8),
    /// The key check failed.
    WrongKey,
}

/// The key all recordings are sealed under: the data key hashed with a label, so audio never
/// uses the very key SQLCipher does.
fn recordings_key(key: &Key) -> Zeroizing<[u8; 32]> {
    let mut h = Sha256::new();
    h.update(b"sotto recordings v1\0");
    h.update(key.as_ref());
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&h.finalize());
    out
}

impl Header {
    /// A new header with a fresh random nonce prefix; also returns its 56 bytes.
    pub fn new(key: &Key, sample_rate: u32, chunk_samples: u32) -> Result<(Self, Vec<u8>), getrandom::Error> {
        let mut prefix = [0u8; PREFIX_LEN];
        getrandom::fill(&mut prefix)?;
        let mut aad = [0u8; AAD_LEN];
        aad[..8].copy_from_slice(MAGIC);
        aad[8] = VERSION;
        aad[9] = FORMAT_I16_MONO;
        aad[12..16].copy_from_slice(&sample_rate.to_le_bytes());
        aad[16..20].copy_from_slice(&chunk_samples.to_le_bytes());
        aad[20..39].copy_from_slice(&prefix);
        let header = Header { aad, sample_rate, chunk_samples, prefix, cipher: cipher(key) };
        let check = header.seal_raw(KEY_CHECK_COUNTER, 2, &[]);
        Ok((header, [aad.as_slice(), check.as_slice()].concat()))
    }

    /// Parse and authenticate the first [`HEADER_LEN`] bytes of a file.
    pub fn parse(key: &Key, bytes: &[u8]) -> Result<Self, HeaderError> {
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err(HeaderError::NotARecording);
        }
        if bytes[8] != VERSION || bytes[9] != FORMAT_I16_MONO {
            return Err(HeaderError::Version(bytes[8]));
        }
        let mut aad = [0u8; AAD_LEN];
        aad.copy_from_slice(&bytes[..AAD_LEN]);
        let mut prefix = [0u8; PREFIX_LEN];
        prefix.copy_from_slice(&aad[20..39]);
        let sample_rate = u32::from_le_bytes(aad[12..16].try_into().expect("4 bytes"));
        let chunk_samples = u32::from_le_bytes(aad[16..20].try_into().expect("4 bytes"));
        let header = Header { aad, sample_rate, chunk_samples, prefix, cipher: cipher(key) };
        header.open_raw(KEY_CHECK_COUNTER, 2, &bytes[AAD_LEN..HEADER_LEN]).map_err(|BadTag| HeaderError::WrongKey)?;
        // Checked after the key check: these fields are only trusted once authenticated.
        if sample_rate == 0 || chunk_samples == 0 {
            return Err(HeaderError::NotARecording);
        }
        Ok(header)
    }

    /// Ciphertext bytes of a full chunk.
    pub fn full_chunk_len(&self) -> u64 {
        self.chunk_samples as u64 * SAMPLE_BYTES as u64 + TAG_LEN as u64
    }

    /// Seal chunk `index` holding `samples`.
    pub fn seal(&self, index: u32, last: bool, samples: &[i16]) -> Vec<u8> {
        let plain: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        self.seal_raw(index, last as u8, &plain)
    }

    /// Open chunk `index`; `Err` when it does not authenticate as that chunk.
    pub fn open(&self, index: u32, last: bool, sealed: &[u8]) -> Result<Vec<i16>, BadTag> {
        let plain = self.open_raw(index, last as u8, sealed)?;
        Ok(plain.chunks_exact(SAMPLE_BYTES).map(|b| i16::from_le_bytes([b[0], b[1]])).collect())
    }

    fn nonce(&self, counter: u32, flag: u8) -> XNonce {
        let mut n = [0u8; 24];
        n[..PREFIX_LEN].copy_from_slice(&self.prefix);
        n[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&counter.to_be_bytes());
        n[23] = flag;
        n.into()
    }

    fn seal_raw(&self, counter: u32, flag: u8, plain: &[u8]) -> Vec<u8> {
        self.cipher
            .encrypt(&self.nonce(counter, flag), Payload { msg: plain, aad: &self.aad })
            .expect("sealing in memory cannot fail below 256 GiB")
    }

    fn open_raw(&self, counter: u32, flag: u8, sealed: &[u8]) -> Result<Vec<u8>, BadTag> {
        self.cipher.decrypt(&self.nonce(counter, flag), Payload { msg: sealed, aad: &self.aad }).map_err(|_| BadTag)
    }
}

fn cipher(key: &Key) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(recordings_key(key).as_ref().into())
}

/// An f32 sample in [-1, 1] as i16 (clipped; NaN becomes silence).
pub fn to_i16(x: f32) -> i16 {
    // `as` saturates and maps NaN to 0.
    (x * 32768.0).round() as i16
}

/// An i16 sample as f32 in [-1, 1).
pub fn to_f32(s: i16) -> f32 {
    s as f32 / 32768.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Key {
        Zeroizing::new([b; 32])
    }

    #[test]
    fn header_round_trips_and_refuses_other_keys_and_edits() {
        let (h, bytes) = Header::new(&key(1), 16_000, 8000).unwrap();
        assert_eq!(bytes.len(), HEADER_LEN);
        let parsed = Header::parse(&key(1), &bytes).ok().unwrap();
        assert_eq!((parsed.sample_rate, parsed.chunk_samples), (16_000, 8000));
        assert!(matches!(Header::parse(&key(2), &bytes), Err(HeaderError::WrongKey)));
        let mut edited = bytes.clone();
        edited[12] ^= 1; // the sample rate
        assert!(matches!(Header::parse(&key(1), &edited), Err(HeaderError::WrongKey)));
        assert!(matches!(Header::parse(&key(1), &bytes[..30]), Err(HeaderError::NotARecording)));
        // Chunks open only at their own position and with their own last flag.
        let sealed = h.seal(3, false, &[1, -2, 300]);
        assert_eq!(parsed.open(3, false, &sealed).unwrap(), vec![1, -2, 300]);
        assert!(parsed.open(4, false, &sealed).is_err());
        assert!(parsed.open(3, true, &sealed).is_err());
    }

    #[test]
    fn every_file_gets_its_own_nonce_prefix() {
        let (a, _) = Header::new(&key(1), 16_000, 8000).unwrap();
        let (b, _) = Header::new(&key(1), 16_000, 8000).unwrap();
        assert_ne!(a.prefix, b.prefix);
        assert_ne!(a.seal(0, false, &[5; 8]), b.seal(0, false, &[5; 8]));
    }

    #[test]
    fn samples_convert_without_panics() {
        assert_eq!(to_i16(0.5), 16384);
        assert_eq!(to_i16(2.0), i16::MAX);
        assert_eq!(to_i16(-2.0), i16::MIN);
        assert_eq!(to_i16(f32::NAN), 0);
        assert_eq!(to_i16(f32::INFINITY), i16::MAX);
        for s in [i16::MIN, -1, 0, 1, 1234, i16::MAX] {
            assert_eq!(to_i16(to_f32(s)), s);
        }
    }
}
