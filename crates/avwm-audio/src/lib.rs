//! avwm-audio (in progress).
