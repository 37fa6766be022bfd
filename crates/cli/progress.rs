//! What `check` shows on stderr while it works: a progress bar on a terminal, slow
//! snippets, and warnings.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressDrawTarget, ProgressStyle};
use snipcheck_check::Observer;
use snipcheck_record::Snippet;

/// The check's observer for a person at a terminal (and for CI logs: slow snippets and
/// warnings are shown either way).
pub struct Terminal {
    interactive: bool,
    quiet: bool,
    verbose: bool,
    bar: Option<ProgressBar>,
}

impl Terminal {
    pub fn new(quiet: bool, verbose: bool) -> Self {
        Terminal {
            interactive: std::io::stderr().is_terminal(),
            quiet,
            verbose,
            bar: None,
        }
    }
}

impl Observer for Terminal {
    fn running(&mut self, snippets: usize, documents: usize) {
        if self.interactive {
            eprintln!(
                "snipcheck: running {snippets} snippet{} from {documents} document{}",
                if snippets == 1 { "" } else { "s" },
                if documents == 1 { "" } else { "s" }
            );
        }
        self.bar = Some(ProgressBar::new(snippets, self.interactive && !self.quiet));
    }

    fn verdict(&mut self, snippet: &Snippet) {
        if let Some(bar) = &mut self.bar {
            bar.advance(snippet);
        }
    }

    fn slow(&mut self, snippet: &Snippet, seconds: f64, limit: f64) {
        let text = format!(
            "snipcheck: {}:{} {} is still running after {seconds:.0} s (limit {limit} s)",
            snippet.path, snippet.line, snippet.id
        );
        match &self.bar {
            Some(bar) => bar.notice(&text),
            None => eprintln!("{text}"),
        }
    }

    fn ran(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }

    fn cached(&mut self, cached: usize, ran: usize) {
        if self.verbose || self.interactive && !self.quiet {
            eprintln!(
                "snipcheck: {cached} verdict{} from the result cache, {ran} snippet{} run",
                if cached == 1 { "" } else { "s" },
                if ran == 1 { "" } else { "s" }
            );
        }
    }

    fn environment(&mut self, note: &str) {
        if !self.quiet {
            eprintln!("snipcheck: {note}");
        }
    }

    fn warning(&mut self, message: &str) {
        eprintln!("snipcheck: warning: {message}");
    }

    fn wrote_record(&mut self, file: &Path) {
        eprintln!("snipcheck: wrote the results to {}", file.display());
    }
}

/// A progress bar on stderr, shown only once a run has taken longer than a moment, so quick
/// runs do not flicker.
struct ProgressBar {
    bar: indicatif::ProgressBar,
    start: Instant,
    enabled: bool,
    /// When the message last changed.
    message_at: Option<Instant>,
}

impl ProgressBar {
    const DELAY: Duration = Duration::from_millis(500);
    /// How often the message naming the latest snippet changes: about as often as the bar
    /// is drawn, not once a verdict (thousands a second in a large run).
    const MESSAGE_INTERVAL: Duration = Duration::from_millis(100);

    fn new(total: usize, enabled: bool) -> Self {
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
            message_at: None,
        }
    }

    fn advance(&mut self, snippet: &Snippet) {
        if !self.enabled {
            return; // never drawn
        }
        let now = Instant::now();
        if self.bar.is_hidden() && now.duration_since(self.start) >= Self::DELAY {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
        let stale = self
            .message_at
            .is_none_or(|at| now.duration_since(at) >= Self::MESSAGE_INTERVAL);
        if stale {
            self.bar
                .set_message(format!("{}:{} {}", snippet.path, snippet.line, snippet.id));
            self.message_at = Some(now);
        }
        self.bar.inc(1);
    }

    /// A line for the user (a slow snippet), printed above the bar without tearing it.
    fn notice(&self, text: &str) {
        if self.bar.is_hidden() {
            eprintln!("{text}");
        } else {
            self.bar.println(text);
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
