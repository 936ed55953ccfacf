//! avwm-render (in progress).
