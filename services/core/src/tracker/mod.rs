//! Per-order state and milestone decisions (order-tracker service).
