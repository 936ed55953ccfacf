//! PNG charts of the statistics.
