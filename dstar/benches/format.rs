//! Event formatting throughput, dstar against the `datastar` 0.4.1 SDK in the same run.
//!
//! `cargo bench -p dstar --bench format`
//!
//! - `elements_10k`: a 10 KB, 200-line element patch;
//! - `signals_1k`: a 1 KB signals object, serialized as part of the work (the SDK takes a JSON
//!   string, so its user serializes first); both sides are bound by serde_json here, whose own
//!   cost is shown by `serde_json_floor`;
//! - `signals_1k_text`: the same object as JSON text, so only the event formatting is measured.
//!
//! Each SDK version is measured both ways a user gets bytes from it: `Display` into a `String`,
//! and conversion into axum's SSE `Event`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dstar::elements::PatchElements;
use dstar::signals::PatchSignals;
use dstar::sse::format_event;
use std::hint::black_box;

fn html_10k() -> String {
    let mut html = String::new();
    for i in 0..200 {
        // 50 bytes a line: 200 lines, 10,000 bytes
        html.push_str(&format!(
            "<li id=\"item-{i:03}\">Item {i:03} of the list, ok!!</li>\n"
        ));
    }
    assert_eq!(html.len(), 10_000);
    html
}

fn signals_1k() -> serde_json::Value {
    let mut map = serde_json::Map::new();
    let mut i = 0;
    while serde_json::to_string(&map).unwrap().len() < 1000 {
        map.insert(
            format!("signal_{i:02}"),
            serde_json::json!({"value": i, "label": "some text"}),
        );
        i += 1;
    }
    serde_json::Value::Object(map)
}

fn elements(c: &mut Criterion) {
    let html = html_10k();
    assert_eq!(html.lines().count(), 200);
    let mut g = c.benchmark_group("elements_10k");
    g.throughput(Throughput::Bytes(html.len() as u64));
    g.bench_function("dstar", |b| {
        b.iter(|| {
            format_event(&PatchElements::new(maud::PreEscaped(black_box(
                html.as_str(),
            ))))
            .unwrap()
        })
    });
    g.bench_function("datastar_sdk_display", |b| {
        b.iter(|| {
            datastar::prelude::PatchElements::new(black_box(&html).clone())
                .into_datastar_event()
                .to_string()
        })
    });
    g.bench_function("datastar_sdk_axum_event", |b| {
        b.iter(|| {
            datastar::prelude::PatchElements::new(black_box(&html).clone())
                .write_as_axum_sse_event()
        })
    });
    g.finish();
}

fn signals(c: &mut Criterion) {
    let value = signals_1k();
    let len = serde_json::to_string(&value).unwrap().len();
    let mut g = c.benchmark_group("signals_1k");
    g.throughput(Throughput::Bytes(len as u64));
    g.bench_function("dstar", |b| {
        b.iter(|| format_event(&PatchSignals::new(black_box(&value))).unwrap())
    });
    g.bench_function("datastar_sdk_display", |b| {
        b.iter(|| {
            let json = serde_json::to_string(black_box(&value)).unwrap();
            datastar::prelude::PatchSignals::new(json)
                .into_datastar_event()
                .to_string()
        })
    });
    g.bench_function("datastar_sdk_axum_event", |b| {
        b.iter(|| {
            let json = serde_json::to_string(black_box(&value)).unwrap();
            datastar::prelude::PatchSignals::new(json).write_as_axum_sse_event()
        })
    });
    g.finish();

    // Formatting only: both sides start from the same JSON text.
    let json = serde_json::to_string(&value).unwrap();
    let mut g = c.benchmark_group("signals_1k_text");
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.bench_function("dstar", |b| {
        b.iter(|| format_event(&PatchSignals::raw(black_box(json.as_str()))).unwrap())
    });
    g.bench_function("datastar_sdk_display", |b| {
        b.iter(|| {
            datastar::prelude::PatchSignals::new(black_box(&json).clone())
                .into_datastar_event()
                .to_string()
        })
    });
    g.bench_function("datastar_sdk_axum_event", |b| {
        b.iter(|| {
            datastar::prelude::PatchSignals::new(black_box(&json).clone()).write_as_axum_sse_event()
        })
    });
    g.finish();
}

criterion_group!(benches, elements, signals);
criterion_main!(benches, floor_benches);

fn floor(c: &mut Criterion) {
    let value = signals_1k();
    let mut g = c.benchmark_group("serde_json_floor");
    g.bench_function("serde_json_to_vec", |b| {
        b.iter(|| serde_json::to_vec(black_box(&value)).unwrap())
    });
    g.bench_function("serde_json_to_bytesmut_writer", |b| {
        b.iter(|| {
            use bytes::BufMut;
            let mut buf = bytes::BytesMut::new();
            serde_json::to_writer((&mut buf).writer(), black_box(&value)).unwrap();
            buf
        })
    });
    g.finish();
}
criterion_group!(floor_benches, floor);
