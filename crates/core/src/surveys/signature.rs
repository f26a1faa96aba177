//! The signatures of survey links and form nonces: a keyed BLAKE3 hash of a purpose and
//! the signed bytes, cut to 128 bits, compared in constant time.

use crate::access::PseudonymKey;

/// Bytes of a signature: 128 bits.
pub(crate) const BYTES: usize = 16;

/// The signature of `parts` for `purpose` (which keeps one kind of token from passing for
/// another).
pub(crate) fn sign(key: &PseudonymKey, purpose: &[u8], parts: &[&[u8]]) -> [u8; BYTES] {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(purpose);
    for part in parts {
        h.update(part);
    }
    h.finalize().as_bytes()[..BYTES]
        .try_into()
        .expect("16 bytes")
}

/// Whether `signature` is `expected`, in time that does not depend on where they differ
/// (through blake3's constant-time hash comparison).
pub(crate) fn matches(expected: &[u8; BYTES], signature: &[u8]) -> bool {
    signature.len() == BYTES
        && blake3::Hash::from(pad(expected)) == blake3::Hash::from(pad(signature))
}

fn pad(signature: &[u8]) -> [u8; 32] {
    let mut out = [0; 32];
    out[..signature.len()].copy_from_slice(signature);
    out
}
