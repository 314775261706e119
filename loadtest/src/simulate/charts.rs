//! The report's charts, drawn with `plotters` as PNG.

use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

const SIZE: (u32, u32) = (900, 480);

/// Apology lead time against the promise: a histogram in 12-hour bins, negative
/// meaning before the promised day ended.
pub fn lead_time(path: &Path, hours: &[f64]) -> anyhow::Result<()> {
    let bin = 12.0;
    let mut bins: BTreeMap<i64, u64> = BTreeMap::new();
    for h in hours {
        *bins.entry((h / bin).floor() as i64).or_default() += 1;
    }
    let lo = bins.keys().next().copied().unwrap_or(0).min(-2);
    let hi = bins.keys().last().copied().unwrap_or(0).max(2) + 1;
    let top = bins.values().copied().max().unwrap_or(1);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Apology lead time against the promise", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (lo as f64 * bin)..(hi as f64 * bin),
            0u64..(top + top / 10 + 1),
        )?;
    chart
        .configure_mesh()
        .x_desc("hours from the end of the promised day (negative: before it)")
        .y_desc("parcels")
        .draw()?;
    chart.draw_series(bins.iter().map(|(b, n)| {
        let x0 = *b as f64 * bin;
        let color = if *b < 0 {
            GREEN.mix(0.7)
        } else {
            BLUE.mix(0.7)
        };
        Rectangle::new([(x0, 0), (x0 + bin * 0.9, *n)], color.filled())
    }))?;
    root.present()?;
    Ok(())
}

/// Orders by how many messages they received.
pub fn messages_per_order(path: &Path, counts: &BTreeMap<usize, u64>) -> anyhow::Result<()> {
    let max_n = counts.keys().last().copied().unwrap_or(0) + 1;
    let top = counts.values().copied().max().unwrap_or(1);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Messages per order", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d((0usize..max_n).into_segmented(), 0u64..(top + top / 10 + 1))?;
    chart
        .configure_mesh()
        .x_desc("messages (notifications, apologies, review requests)")
        .y_desc("orders")
        .draw()?;
    chart.draw_series(
        Histogram::vertical(&chart)
            .style(BLUE.mix(0.7).filled())
            .margin(6)
            .data(counts.iter().map(|(n, c)| (*n, *c))),
    )?;
    root.present()?;
    Ok(())
}
