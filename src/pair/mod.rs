//! Pairing: comparing production's build with a candidate in the same
//! sandbox — their images ([`images`]) and their answers to the same
//! requests ([`answers`]), and where they reached out meanwhile ([`egress`]).

pub mod answers;
pub mod egress;
pub mod images;
