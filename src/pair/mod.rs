//! Pairing: comparing production's build with a candidate in the same
//! sandbox — their images ([`images`]) and their answers to the same
//! requests ([`answers`]).

pub mod answers;
pub mod images;
