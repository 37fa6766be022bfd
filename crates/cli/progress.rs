//! The progress bar `check` shows on a terminal while snippets run.

use std::time::{Duration, Instant};

use indicatif::{ProgressDrawTarget, ProgressStyle};
use snipcheck_record::Snippet;

/// A progress bar on stderr, shown only once a run has taken longer than a moment, so quick
/// runs do not flicker.
pub struct ProgressBar {
    bar: indicatif::ProgressBar,
    start: Instant,
    enabled: bool,
}

impl ProgressBar {
    const DELAY: Duration = Duration::from_millis(500);

    pub fn new(total: usize, enabled: bool) -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total as u64),
            ProgressDrawTarget::hidden(),
        );
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {elapsed:>3} [{bar:30}] {pos}/{len} {wide_msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        ProgressBar {
            bar,
            start: Instant::now(),
            enabled,
        }
    }

    pub fn advance(&self, snippet: &Snippet) {
        if self.enabled && self.bar.is_hidden() && self.start.elapsed() >= Self::DELAY {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
        self.bar
            .set_message(format!("{}:{} {}", snippet.path, snippet.line, snippet.id));
        self.bar.inc(1);
    }

    /// A line for the user (a slow snippet), printed above the bar without tearing it.
    pub fn notice(&self, text: &str) {
        if self.bar.is_hidden() {
            eprintln!("{text}");
        } else {
            self.bar.println(text);
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
