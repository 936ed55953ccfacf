//! avwm-sim (in progress).
