//! The metrics exporter's upkeep, in a test binary of its own: it measures this process's
//! resident set, which tests running beside it in one binary would move.

use hallpass_server::metrics::{keep_up, BUCKETS};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use std::time::Duration;

/// This process's resident set in bytes (Linux), or `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Histogram samples recorded with no scrape are drained by the upkeep thread, so memory
/// stays flat under a steady stream of requests (8 bytes a sample otherwise, for ever).
#[test]
fn histograms_are_drained_without_a_scrape() {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("seconds".into()), &BUCKETS)
        .unwrap()
        .build_recorder();
    keep_up(recorder.handle(), Duration::from_millis(20)).unwrap();
    let histogram = metrics::with_local_recorder(&recorder, || {
        metrics::histogram!("test_request_duration_seconds")
    });
    // 64 rounds of 128k samples: 64 MiB held if nothing drained them.
    let record = |rounds: u32| {
        for _ in 0..rounds {
            for i in 0..131_072u32 {
                histogram.record(f64::from(i % 1000) / 1e6);
            }
            std::thread::sleep(Duration::from_millis(60));
        }
    };
    record(8); // the allocator's working set for one round, reused from here on
    let Some(before) = resident_bytes() else {
        return;
    };
    record(56);
    let grown = resident_bytes().unwrap().saturating_sub(before);
    assert!(
        grown < 16 << 20,
        "resident set grew {} MiB over 56 rounds of 1 MiB of samples",
        grown >> 20
    );
    // The samples are counted, not thrown away by the drain. Not quite all: metrics-util's
    // lock-free bucket makes a new block the tail before linking the old chain behind it, and a
    // drain that lands between the two steps (the writer preempted there, which a busy machine
    // makes likelier) loses that chain, every sample since the drain before. CI once lost 74,245
    // of 8,388,608 so. At most two rounds' worth may go; a drain that discarded samples would lose
    // nearly all of them.
    std::thread::sleep(Duration::from_millis(100));
    let text = recorder.handle().render();
    let count: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("test_request_duration_seconds_count "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        (8_388_608 - 2 * 131_072..=8_388_608).contains(&count),
        "{count} of 8388608 samples counted"
    );
}
