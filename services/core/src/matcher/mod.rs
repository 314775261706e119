//! Matching scans to orders (scan-matcher service).
