//! Polling the consumer queue through librdkafka's event API. The safe API names
//! only the partition of an end-of-partition event; the engine needs its topic, so
//! this small module reads the events itself, and handles assignments the way
//! rdkafka's default rebalance does.

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::ffi::CStr;
use std::os::raw::c_char;
use std::sync::Arc;
use wismo_engine::record::{headers, parse_watermark, Record, Source, TopicPartition};
use wismo_engine::transport::Event;

/// The consumer queue of one consumer, polled for events.
pub(crate) struct EventQueue {
    queue: *mut rd::rd_kafka_queue_t,
    client: *mut rd::rd_kafka_t,
    /// The cluster refused this consumer's credentials (see `refusal`).
    pub refusal: Option<String>,
    /// A connection to the cluster was lost since this was last cleared: what
    /// the partitions' ends said before may be stale.
    pub connection_lost: bool,
}

// SAFETY: librdkafka queues and clients are thread-safe; the queue is used by the
// one thread that owns the transport.
unsafe impl Send for EventQueue {}

unsafe fn text(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    CStr::from_ptr(ptr).to_string_lossy().into_owned()
}

fn slice<'a>(ptr: *const std::os::raw::c_void, len: usize) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: librdkafka gives a pointer and length into memory the event owns.
    Some(unsafe { std::slice::from_raw_parts(ptr as *const u8, len) })
}

impl EventQueue {
    pub fn new(consumer: &BaseConsumer<impl rdkafka::consumer::ConsumerContext>) -> Self {
        let client = consumer.client().native_ptr();
        // SAFETY: a new reference to the consumer queue, destroyed on drop.
        let queue = unsafe { rd::rd_kafka_queue_get_consumer(client) };
        EventQueue {
            queue,
            client,
            refusal: None,
            connection_lost: false,
        }
    }

    /// Waits up to `timeout_ms` for one event and appends what it brings.
    /// Returns whether there was one.
    pub fn poll(&mut self, timeout_ms: i32, topics: &mut TopicNames, out: &mut Vec<Event>) -> bool {
        if self.queue.is_null() {
            return false;
        }
        // SAFETY: the event is destroyed below after everything was copied out.
        let event = unsafe { rd::rd_kafka_queue_poll(self.queue, timeout_ms) };
        if event.is_null() {
            return false;
        }
        unsafe {
            match rd::rd_kafka_event_type(event) {
                rd::RD_KAFKA_EVENT_FETCH => loop {
                    let msg = rd::rd_kafka_event_message_next(event);
                    if msg.is_null() {
                        break;
                    }
                    self.message(msg, topics, out);
                },
                rd::RD_KAFKA_EVENT_ERROR => {
                    let err = rd::rd_kafka_event_error(event);
                    if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__PARTITION_EOF {
                        let tp = rd::rd_kafka_event_topic_partition(event);
                        if !tp.is_null() {
                            let topic = topics.get(&text((*tp).topic));
                            out.push(Event::End(TopicPartition::new(topic, (*tp).partition)));
                            rd::rd_kafka_topic_partition_destroy(tp);
                        }
                    } else {
                        let reason = text(rd::rd_kafka_event_error_string(event));
                        if matches!(
                            err,
                            rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
                                | rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__TRANSPORT
                        ) {
                            self.connection_lost = true;
                        }
                        if let Some(r) = super::refusal::refusal(err.into(), &reason) {
                            self.refusal.get_or_insert(r);
                        }
                        tracing::warn!(error = %reason, "consumer error");
                    }
                }
                rd::RD_KAFKA_EVENT_REBALANCE => self.rebalance(event, topics, out),
                _ => {}
            }
            rd::rd_kafka_event_destroy(event);
        }
        true
    }

    unsafe fn message(
        &self,
        msg: *const rd::rd_kafka_message_t,
        topics: &mut TopicNames,
        out: &mut Vec<Event>,
    ) {
        let m = &*msg;
        let topic = topics.get(&text(rd::rd_kafka_topic_name(m.rkt)));
        if m.err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__PARTITION_EOF {
            out.push(Event::End(TopicPartition::new(topic, m.partition)));
            return;
        }
        if m.err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            tracing::warn!(%topic, partition = m.partition, error = %text(rd::rd_kafka_err2str(m.err)), "fetch error");
            return;
        }
        let mut ts_type = rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
        let timestamp = rd::rd_kafka_message_timestamp(msg, &mut ts_type);
        let (mut source, mut watermark) = (None, None);
        let mut hdrs: *mut rd::rd_kafka_headers_t = std::ptr::null_mut();
        if rd::rd_kafka_message_headers(msg, &mut hdrs)
            == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
        {
            let mut i = 0;
            loop {
                let mut name: *const c_char = std::ptr::null();
                let mut value: *const std::os::raw::c_void = std::ptr::null();
                let mut size = 0usize;
                if rd::rd_kafka_header_get_all(hdrs, i, &mut name, &mut value, &mut size)
                    != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
                {
                    break;
                }
                let bytes = slice(value, size).unwrap_or_default();
                match CStr::from_ptr(name).to_bytes() {
                    n if n == headers::SOURCE.as_bytes() => source = Source::parse(bytes),
                    n if n == headers::WATERMARK.as_bytes() => watermark = parse_watermark(bytes),
                    _ => {}
                }
                i += 1;
            }
        }
        out.push(Event::Record(Record {
            topic,
            partition: m.partition,
            offset: m.offset,
            timestamp: if timestamp < 0 { 0 } else { timestamp },
            key: slice(m.key, m.key_len).map(<[u8]>::to_vec),
            value: slice(m.payload, m.len).map(<[u8]>::to_vec),
            source,
            watermark,
        }));
    }

    unsafe fn rebalance(
        &self,
        event: *mut rd::rd_kafka_event_t,
        topics: &mut TopicNames,
        out: &mut Vec<Event>,
    ) {
        let err = rd::rd_kafka_event_error(event);
        let list = rd::rd_kafka_event_topic_partition_list(event);
        let mut tps = Vec::new();
        if !list.is_null() {
            for i in 0..(*list).cnt.max(0) as usize {
                let e = &*(*list).elems.add(i);
                tps.push(TopicPartition::new(topics.get(&text(e.topic)), e.partition));
            }
        }
        let cooperative = text(rd::rd_kafka_rebalance_protocol(self.client)) == "COOPERATIVE";
        let assign = err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
        let revoke = err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS;
        if !assign && !revoke {
            tracing::warn!(error = %text(rd::rd_kafka_err2str(err)), "rebalance error");
            return;
        }
        let failure = match (cooperative, assign) {
            (true, true) => error_text(rd::rd_kafka_incremental_assign(self.client, list)),
            (true, false) => error_text(rd::rd_kafka_incremental_unassign(self.client, list)),
            (false, true) => resp_text(rd::rd_kafka_assign(self.client, list)),
            (false, false) => resp_text(rd::rd_kafka_assign(self.client, std::ptr::null())),
        };
        if let Some(e) = failure {
            tracing::error!(error = %e, "applying a rebalance failed");
        }
        out.push(if assign {
            Event::Assigned(tps)
        } else {
            Event::Revoked(tps)
        });
    }
}

unsafe fn error_text(e: *mut rd::rd_kafka_error_t) -> Option<String> {
    if e.is_null() {
        return None;
    }
    let s = text(rd::rd_kafka_error_string(e));
    rd::rd_kafka_error_destroy(e);
    Some(s)
}

unsafe fn resp_text(e: rd::rd_kafka_resp_err_t) -> Option<String> {
    (e != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR)
        .then(|| text(rd::rd_kafka_err2str(e)))
}

impl Drop for EventQueue {
    fn drop(&mut self) {
        if !self.queue.is_null() {
            // SAFETY: the reference taken in `new`.
            unsafe { rd::rd_kafka_queue_destroy(self.queue) };
        }
    }
}

/// Topic names shared across records instead of a string per record.
#[derive(Default)]
pub(crate) struct TopicNames {
    names: Vec<Arc<str>>,
}

impl TopicNames {
    pub fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(n) = self.names.iter().find(|n| ***n == *name) {
            return n.clone();
        }
        let n: Arc<str> = Arc::from(name);
        self.names.push(n.clone());
        n
    }
}
