//! One file per command; each chains the stages and returns data for the CLI
//! layer to print.

pub mod diff;
pub mod doctor;
pub mod down;
pub mod exec;
pub mod gc;
pub mod history;
pub mod inspect;
pub mod logs;
pub mod ls;
pub mod profiles;
pub mod up;
pub mod verify;
