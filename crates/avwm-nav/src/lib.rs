//! avwm-nav (in progress).
