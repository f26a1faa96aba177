//! A progress bar on a terminal; nothing when stderr is not one.

use std::io::IsTerminal;

use cxray_store::import::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-based progress bar that also shows rows and rows per second.
pub struct Bar {
    bar: ProgressBar,
    started: std::time::Instant,
}

impl Bar {
    /// A bar drawn on stderr when it is a terminal.
    pub fn new(label: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        if !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ({eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        Bar {
            bar,
            started: std::time::Instant::now(),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn update(&self, bytes: u64, total_bytes: u64, rows: u64) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_length(total_bytes);
        self.bar.set_position(bytes);
        self.bar.set_message(format!(
            "{} rows, {:.0} rows/s",
            crate::output::count(rows),
            rows as f64 / secs
        ));
    }
}
