//! `dstar::html!` renders exactly what `maud::html!` renders, for every construct it supports.

macro_rules! same {
    ($($template:tt)*) => {{
        let ours = dstar::html! { $($template)* }.into_string();
        let maud = maud::html! { $($template)* }.into_string();
        assert_eq!(ours, maud);
        ours
    }};
}

#[test]
fn elements_classes_ids_and_attributes() {
    let count = 3;
    let name = "a \"quoted\" <name> & more";
    let maybe: Option<&str> = Some("x");
    let none: Option<&str> = None;
    let out = same! {
        (maud::DOCTYPE)
        div.card.wide #main data-signals:count=(count) data-on:click="@post('/x')" {
            h1 data-text="$count" {}
            span #history { "—" }
            input type="text" value=(name) disabled;
            input checked[count > 2] readonly[count > 5];
            a href=[maybe] title=[none] { "link" }
            p.a.b[count == 3].c[false] { "classes" }
            p.(name) { }
            custom-element data-on:online__window="go()" {}
            br;
        }
    };
    assert!(
        out.contains(r#"<div class="card wide" id="main" data-signals:count="3""#),
        "{out}"
    );
}

#[test]
fn text_and_splices_are_escaped_and_markup_is_not() {
    let inner = maud::html! { b { "bold" } };
    same! {
        "a < b & \"c\""
        (1) (2.5) ('x')
        ("<script>")
        (inner)
        (maud::PreEscaped("<i>raw</i>"))
    };
}

#[test]
fn control_flow() {
    let items = ["one", "two", "<three>"];
    let flag = true;
    let value: Option<i32> = Some(7);
    for n in 0..3 {
        same! {
            @if n == 0 { "zero" } @else if n == 1 { "one" } @else { "many" }
            @if let Some(v) = value { span { (v) } }
            ul {
                @for (i, item) in items.iter().enumerate() {
                    @let label = format!("{i}:{item}");
                    li.item[flag] { (label) }
                }
            }
            @match n {
                0 => "m0",
                1 => { b { "m1" } }
                _ => i { "m*" }
            }
        };
    }
    let mut k = 0;
    let a = dstar::html! { @while k < 3 { (k) @let _ = { k += 1; }; } }.into_string();
    assert_eq!(a, "012");
}
