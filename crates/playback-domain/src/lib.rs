//! Playback telemetry domain: the event contract, validation, and the logic of
//! every path (QoE windows, session features, SRE signals, lake partitions).
//! No AWS here: side effects go through the traits in [`ports`].

pub mod catalogue;
pub mod error;
pub mod event;
pub mod features;
pub mod lake;
pub mod long_horizon;
pub mod memory;
pub mod metrics;
pub mod ports;
pub mod position;
pub mod qoe;
pub mod record;
pub mod sre;
pub mod training;

pub use error::{InvalidEvent, Reason};
pub use event::{EventType, OwnedEvent, PlaybackEvent};
pub use position::StreamPosition;
pub use record::{decode_record, decode_record_each, Clock, Decoded};
