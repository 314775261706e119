//! Percentiles of measured values, and of a Prometheus histogram from its
//! bucket counts (which give only the bucket a percentile falls in).

use std::collections::BTreeMap;

/// p50, p90, p99 and max of a set of values (nearest rank), with its count.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    pub n: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(values: &mut [f64]) -> Percentiles {
        if values.is_empty() {
            return Percentiles::default();
        }
        values.sort_by(f64::total_cmp);
        let rank = |q: f64| {
            let i = (q * values.len() as f64).ceil() as usize;
            values[i.clamp(1, values.len()) - 1]
        };
        Percentiles {
            n: values.len(),
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: values[values.len() - 1],
        }
    }
}

/// A histogram's cumulative bucket counts by upper bound (`+Inf` as infinity).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram(pub BTreeMap<u64, (f64, f64)>);

impl Histogram {
    /// `name`'s buckets in a `/metrics` text (no labels other than `le`).
    pub fn parse(metrics: &str, name: &str) -> Histogram {
        let prefix = format!("{name}_bucket{{le=\"");
        let mut out = BTreeMap::new();
        for line in metrics.lines() {
            let Some(rest) = line.strip_prefix(&prefix) else {
                continue;
            };
            let Some((le, count)) = rest.split_once("\"} ") else {
                continue;
            };
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                match le.parse::<f64>() {
                    Ok(b) => b,
                    Err(_) => continue,
                }
            };
            if let Ok(c) = count.trim().parse::<f64>() {
                // Keyed by the bound's bits: positive floats order as their bits.
                out.insert(bound.to_bits(), (bound, c));
            }
        }
        Histogram(out)
    }

    /// Bucket by bucket, `self` less `earlier` (what was observed in between).
    pub fn minus(&self, earlier: &Histogram) -> Histogram {
        Histogram(
            self.0
                .iter()
                .map(|(k, (b, c))| {
                    let before = earlier.0.get(k).map_or(0.0, |(_, c)| *c);
                    (*k, (*b, c - before))
                })
                .collect(),
        )
    }

    pub fn plus(&self, other: &Histogram) -> Histogram {
        let mut out = self.0.clone();
        for (k, (b, c)) in &other.0 {
            out.entry(*k).or_insert((*b, 0.0)).1 += c;
        }
        Histogram(out)
    }

    pub fn count(&self) -> f64 {
        self.0.values().map(|(_, c)| *c).fold(0.0, f64::max)
    }

    /// The upper bound of the bucket the `q` quantile falls in (infinity: past
    /// the last finite bound); `None` when nothing was observed.
    pub fn quantile_bound(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total <= 0.0 {
            return None;
        }
        let target = (q * total).ceil().max(1.0);
        self.0.values().find(|(_, c)| *c >= target).map(|(b, _)| *b)
    }

    /// The bounds and the count in each bucket alone (not cumulative).
    pub fn per_bucket(&self) -> Vec<(f64, f64)> {
        let mut prev = 0.0;
        self.0
            .values()
            .map(|(b, c)| {
                let own = c - prev;
                prev = *c;
                (*b, own)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&mut v);
        assert_eq!(
            (p.n, p.p50, p.p90, p.p99, p.max),
            (100, 50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(Percentiles::of(&mut []).n, 0);
    }

    #[test]
    fn histogram_quantiles_are_bucket_bounds() {
        let t0 = "h_bucket{le=\"0.5\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n";
        let t1 =
            "h_bucket{le=\"0.5\"} 91\nh_bucket{le=\"1\"} 100\nh_bucket{le=\"+Inf\"} 101\nh_sum 3\n";
        let d = Histogram::parse(t1, "h").minus(&Histogram::parse(t0, "h"));
        assert_eq!(d.count(), 100.0);
        assert_eq!(d.quantile_bound(0.5), Some(0.5));
        assert_eq!(d.quantile_bound(0.99), Some(1.0));
        assert_eq!(d.quantile_bound(1.0), Some(f64::INFINITY));
        assert_eq!(d.per_bucket()[1], (1.0, 9.0));
        assert_eq!(Histogram::default().quantile_bound(0.5), None);
    }
}
