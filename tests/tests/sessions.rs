//! Sessions, the signed-in user, flash messages and plain routes inside `App`: what a real app
//! needs around its pages, tested through the router with parsed SSE events.

use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{Request, StatusCode};
use axum::response::Redirect;
use dstar::csrf::Csrf;
use dstar::flash::Flash;
use dstar::prelude::*;
use dstar::session::{Auth, CurrentUser, Session, Sessions};
use dstar::test::{SseEvent, TestClient};
use serde::{Deserialize, Serialize};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct User {
    id: i64,
    email: String,
}

#[derive(Clone)]
struct St {
    pubsub: PubSub,
}

impl FromRef<St> for PubSub {
    fn from_ref(st: &St) -> PubSub {
        st.pubsub.clone()
    }
}

/// A live page for signed-in users only.
struct Inbox {
    user: User,
    flash: Flash,
}

#[dstar::page("/inbox", state = St, live = "inbox")]
impl Inbox {
    async fn mount(CurrentUser(user): CurrentUser<User>, flash: Flash) -> Self {
        Inbox { user, flash }
    }

    fn render(&self) -> Markup {
        html! {
            (self.flash)
            p #who data-init=(connect()) { (self.user.email) }
        }
    }

    /// Async, with an extractor: only users with an even id may send events. Nobody signed in:
    /// the extractor's own answer (sent to sign-in).
    async fn authorize(access: Access<InboxEvent>, CurrentUser(user): CurrentUser<User>) -> bool {
        match access {
            Access::Stream => true,
            Access::Event(_) => user.id % 2 == 0,
        }
    }

    #[event]
    async fn ping(sse: &mut Sse, CurrentUser(user): CurrentUser<User>) {
        sse.patch_signals(json!({ "who": user.email }));
    }
}

/// Signs in whoever asks (the password check is the app's).
#[derive(Default)]
struct SignIn;

#[dstar::page("/signin")]
impl SignIn {
    fn render(&self) -> Markup {
        html! { button data-on:click=(event("go")) { "Sign in" } }
    }

    #[event]
    async fn go(
        sse: &mut Sse,
        auth: Auth,
        flash: Flash,
        Signals(user): Signals<User>,
    ) -> Result<(), dstar::Error> {
        auth.sign_in(&user).await?;
        flash.success("Welcome back");
        sse.redirect("/inbox")?;
        Ok(())
    }
}

async fn sign_out(auth: Auth) -> Result<Redirect, dstar::Error> {
    auth.sign_out().await?;
    Ok(Redirect::to("/signin"))
}

/// An anonymous visit that stores something, so the visitor has a session before signing in.
async fn visit(session: Session, State(_): State<St>) -> &'static str {
    session.insert("visited", true).await.expect("memory store");
    "hello"
}

fn app(st: &St) -> dstar::App {
    dstar::App::empty()
        .page::<Inbox>()
        .page::<SignIn>()
        .route("/signout", axum::routing::post(sign_out))
        .route("/visit", axum::routing::get(visit).with_state(st.clone()))
        .state(st.clone())
        .sessions(Sessions::memory())
        .key(dstar::secret::AppKey::new(
            "a test key of at least thirty-two bytes",
        ))
}

fn st() -> St {
    St {
        pubsub: PubSub::new(),
    }
}

fn alice() -> serde_json::Value {
    json!({ "id": 2, "email": "alice@example.com" })
}

async fn signed_in(client: &TestClient) {
    client
        .post("/signin/_event/go", alice())
        .await
        .assert_status(200);
}

/// The client's session and CSRF cookies, for requests built by hand.
fn cookies(client: &TestClient) -> String {
    ["dstar_session", "dstar_csrf"]
        .iter()
        .filter_map(|name| client.cookie(name).map(|v| format!("{name}={v}")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn is_page_render(e: &SseEvent) -> bool {
    e.event == "datastar-patch-elements"
        && e.value("elements")
            .is_some_and(|h| h.contains(r#"id="ds-page""#))
}

#[tokio::test]
async fn a_page_that_needs_a_user_redirects_a_page_load_and_an_event_to_sign_in() {
    let client = TestClient::new(app(&st()).build());
    let page = client.get("/inbox").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers["location"], "/signin");
    // a Datastar event: `authorize` sends the browser to sign-in; the handler never runs
    let answer = client.post("/inbox/_event/ping", json!({})).await;
    answer.assert_status(200);
    assert!(answer.text().contains("/signin"), "{}", answer.text());
    assert!(!answer.text().contains("who"));
    signed_in(&client).await;
    let page = client.get("/inbox").await;
    page.assert_status(200);
    assert!(page.text().contains("alice@example.com"), "{}", page.text());
    let events = client.post("/inbox/_event/ping", json!({})).await.events();
    dstar::test::assert_patched_signals(&events, json!({ "who": "alice@example.com" }));
}

#[tokio::test]
async fn authorize_takes_extractors_and_may_be_async() {
    let client = TestClient::new(app(&st()).build());
    client
        .post(
            "/signin/_event/go",
            json!({ "id": 3, "email": "odd@example.com" }),
        )
        .await
        .assert_status(200);
    // signed in, but the async `authorize` reads the user and refuses odd ids
    client
        .post("/inbox/_event/ping", json!({}))
        .await
        .assert_status(403);
}

#[tokio::test]
async fn an_event_that_needs_a_user_sends_the_browser_to_sign_in() {
    // the extractor's own answer to a Datastar request: a redirect the browser follows
    let st = st();
    struct Open;
    #[dstar::page("/open", state = St)]
    impl Open {
        async fn mount() -> Self {
            Open
        }
        fn render(&self) -> Markup {
            html! { button data-on:click=(event("mine")) {} }
        }
        #[event]
        async fn mine(sse: &mut Sse, CurrentUser(user): CurrentUser<User>) {
            sse.patch_signals(json!({ "me": user.email }));
        }
    }
    let client = TestClient::new(app(&st).page::<Open>().build());
    let answer = client.post("/open/_event/mine", json!({})).await;
    answer.assert_status(200);
    let scripts: Vec<String> = answer
        .events()
        .iter()
        .flat_map(|e| e.lines("elements"))
        .map(str::to_owned)
        .collect();
    assert!(
        scripts.iter().any(|s| s.contains("/signin")),
        "a redirect to sign-in: {scripts:?}"
    );
}

#[tokio::test]
async fn sign_in_gives_the_session_a_new_id_so_a_planted_id_is_worthless() {
    let st = st();
    let router = app(&st).build();
    let victim = TestClient::new(router.clone());
    victim.get("/visit").await.assert_status(200);
    let planted = victim
        .cookie("dstar_session")
        .expect("an anonymous session");
    signed_in(&victim).await;
    let after = victim.cookie("dstar_session").expect("a session");
    assert_ne!(planted, after, "sign-in must give the session a new id");
    // the attacker who planted (or saw) the old id is not signed in
    let attacker = TestClient::new(router);
    let req = Request::get("/inbox")
        .header("cookie", format!("dstar_session={planted}"))
        .body(Body::empty())
        .unwrap();
    let page = attacker.send(req).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_signed_out_tab_is_sent_to_sign_in_by_its_next_render_and_gets_no_more_data() {
    let st = st();
    let client = TestClient::new(app(&st).build());
    signed_in(&client).await;
    client.get("/inbox").await.assert_status(200);
    let mut stream = client.stream("/inbox", json!({ "tabId": "t1" })).await;
    assert_eq!(stream.status, StatusCode::OK);
    st.pubsub.publish("inbox", 1u32).await.unwrap();
    let render = stream.next_events(1, WAIT).await;
    assert!(render.iter().any(is_page_render), "{render:?}");
    // signed out in another tab (same browser, same session cookie)
    let answer = client
        .send(
            Request::post("/signout")
                .header("cookie", cookies(&client))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    // the next change: the tab is redirected to sign-in, the page is not sent, the stream ends
    st.pubsub.publish("inbox", 2u32).await.unwrap();
    let rest = stream.until_end(WAIT).await.expect("the stream ends");
    assert!(!rest.iter().any(is_page_render), "no more data: {rest:?}");
    let scripts: Vec<String> = rest
        .iter()
        .flat_map(|e| e.lines("elements"))
        .map(str::to_owned)
        .collect();
    assert!(
        scripts.iter().any(|s| s.contains("/signin")),
        "sent to sign-in: {rest:?}"
    );
}

#[tokio::test]
async fn a_flash_shows_once_after_the_redirect_and_survives_the_live_re_renders() {
    let st = st();
    let client = TestClient::new(app(&st).build());
    signed_in(&client).await;
    assert!(
        client.cookie("dstar_flash").is_some(),
        "the flash rides a cookie"
    );
    let page = client.get("/inbox").await;
    let html = page.text();
    assert!(
        html.contains(r#"<div class="flash flash-success" role="status">Welcome back</div>"#),
        "{html}"
    );
    assert!(client.cookie("dstar_flash").is_none(), "shown: cleared");
    // the page hands its flash to its stream, so the live re-render shows it too
    let flash = html
        .split(r#"data-ds-flash=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page carries its flash");
    let mut stream = client
        .stream_with_headers(
            "/inbox",
            json!({ "tabId": "f1" }),
            &[("x-dstar-flash", flash)],
        )
        .await;
    st.pubsub.publish("inbox", 1u32).await.unwrap();
    let render = stream.next_events(1, WAIT).await;
    let root = render.iter().find(|e| is_page_render(e)).expect("a render");
    assert!(root.value("elements").unwrap().contains("Welcome back"));
    // the next page load: gone
    let again = client.get("/inbox").await.text();
    assert!(!again.contains("role=\"status\""), "{again}");
}

#[tokio::test]
async fn a_forged_or_altered_flash_is_ignored() {
    let st = st();
    let router = app(&st).build();
    let client = TestClient::new(router.clone());
    signed_in(&client).await;
    let session = client.cookie("dstar_session").unwrap();
    let genuine = client.cookie("dstar_flash").unwrap();
    let (payload, tag) = genuine.split_once('.').unwrap();
    // a payload of the attacker's own, with the genuine tag; and a tag of zeros
    let forged = [
        format!("{}x.{tag}", &payload[..payload.len() - 1]),
        format!("{payload}.{}", "0".repeat(tag.len())),
        "eyJ0ZXh0IjoiaGkifQ.00".to_owned(),
    ];
    for value in forged {
        let req = Request::get("/inbox")
            .header(
                "cookie",
                format!("dstar_session={session}; dstar_flash={value}"),
            )
            .body(Body::empty())
            .unwrap();
        let page = TestClient::new(router.clone()).send(req).await;
        page.assert_status(200);
        assert!(!page.text().contains("role=\"status\""), "{value}");
    }
    // and through the stream header (the page load took the genuine cookie)
    client.get("/inbox").await.assert_status(200);
    let mut stream = client
        .stream_with_headers(
            "/inbox",
            json!({ "tabId": "f2" }),
            &[("x-dstar-flash", "eyJ0ZXh0IjoiaGkifQ.00")],
        )
        .await;
    st.pubsub.publish("inbox", 1u32).await.unwrap();
    let render = stream.next_events(1, WAIT).await;
    let root = render.iter().find(|e| is_page_render(e)).expect("a render");
    assert!(!root.value("elements").unwrap().contains("role=\"status\""));
}

#[tokio::test]
async fn a_plain_route_in_app_is_listed_and_refuses_a_cross_site_post() {
    let st = st();
    let app = app(&st);
    let listed: Vec<String> = app
        .routes()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(listed.contains(&"POST /signout".to_owned()), "{listed:?}");
    assert!(listed.contains(&"GET /visit".to_owned()), "{listed:?}");
    let client = TestClient::new(app.build());
    signed_in(&client).await;
    let cookie = format!("dstar_session={}", client.cookie("dstar_session").unwrap());
    let cross_site = Request::post("/signout")
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .body(Body::empty())
        .unwrap();
    let refused = client.send(cross_site).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // still signed in
    client.get("/inbox").await.assert_status(200);
    let same_origin = Request::post("/signout")
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    assert_eq!(client.send(same_origin).await.status, StatusCode::SEE_OTHER);
    assert_eq!(client.get("/inbox").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_plain_route_in_app_needs_the_csrf_token_when_tokens_are_on() {
    let st = st();
    let client = TestClient::new(app(&st).csrf(Csrf::random()).build());
    client.get("/signin").await.assert_status(200);
    // a form post without the token: refused, whatever Fetch Metadata says
    let req = Request::post("/signout")
        .header("cookie", cookies(&client))
        .body(Body::empty())
        .unwrap();
    let refused = client.send(req).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let token = client.csrf_token().expect("the page's token");
    let req = Request::post("/signout")
        .header("cookie", cookies(&client))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("_csrf_token={token}")))
        .unwrap();
    assert_eq!(client.send(req).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_gives_the_visitor_a_new_csrf_secret() {
    let st = st();
    let client = TestClient::new(app(&st).csrf(Csrf::random()).build());
    client.get("/signin").await.assert_status(200);
    let before = client.cookie("dstar_csrf").expect("a CSRF session");
    let old_token = client.csrf_token().unwrap();
    signed_in(&client).await;
    let after = client.cookie("dstar_csrf").expect("a CSRF session");
    assert_ne!(before, after, "sign-in rotates the CSRF secret");
    // a token rendered before sign-in is refused after it
    client.set_csrf_token(Some(old_token));
    let req = Request::post("/signout")
        .header("cookie", cookies(&client))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "_csrf_token={}",
            client.csrf_token().unwrap()
        )))
        .unwrap();
    assert_eq!(client.send(req).await.status, StatusCode::FORBIDDEN);
}

/// Who is on the lobby: `on_connect` runs with the stream's extractors, its value lives as long
/// as the stream, and `on_disconnect` gets it back.
static ONLINE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
static LEFT: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

struct Here(String);

struct Lobby;

#[dstar::page("/lobby", state = St, live = "lobby")]
impl Lobby {
    async fn mount() -> Self {
        Lobby
    }

    fn render(&self) -> Markup {
        html! { ul #online data-init=(connect()) { @for who in ONLINE.lock().unwrap().iter() { li { (who) } } } }
    }

    async fn on_connect(CurrentUser(user): CurrentUser<User>) -> Here {
        ONLINE.lock().unwrap().push(user.email.clone());
        Here(user.email)
    }

    fn on_disconnect(reason: dstar::stream::EndReason, here: Here) {
        ONLINE.lock().unwrap().retain(|w| *w != here.0);
        LEFT.lock().unwrap().push((here.0, reason.to_string()));
    }
}

#[tokio::test]
async fn a_stream_hook_says_who_joined_and_who_left() {
    let st = st();
    let client = TestClient::new(app(&st).page::<Lobby>().build());
    // nobody signed in: the stream is refused before `on_connect` runs
    let mut refused = client.stream("/lobby", json!({ "tabId": "l0" })).await;
    let sent = refused
        .until_end(WAIT)
        .await
        .expect("a redirect, not a stream");
    assert!(
        sent.iter()
            .any(|e| e.lines("elements").iter().any(|l| l.contains("/signin")))
    );
    assert!(ONLINE.lock().unwrap().is_empty());
    signed_in(&client).await;
    let mut stream = client.stream("/lobby", json!({ "tabId": "l1" })).await;
    assert_eq!(stream.status, StatusCode::OK);
    assert_eq!(*ONLINE.lock().unwrap(), ["alice@example.com"]);
    st.pubsub.publish("lobby", ()).await.unwrap();
    let render = stream.next_events(1, WAIT).await;
    assert!(
        render[0]
            .value("elements")
            .unwrap()
            .contains("<li>alice@example.com</li>")
    );
    drop(stream);
    let deadline = tokio::time::Instant::now() + WAIT;
    while LEFT.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(ONLINE.lock().unwrap().is_empty());
    assert_eq!(LEFT.lock().unwrap()[0].0, "alice@example.com");
    assert_eq!(LEFT.lock().unwrap()[0].1, "client gone");
}

/// A page with its own messages: `authorize` runs again before every message.
#[derive(Default)]
struct Feed;

#[dstar::page("/feed", state = St)]
impl Feed {
    fn render(&self) -> Markup {
        html! { ul #feed data-init=(connect()) {} }
    }

    async fn authorize(_access: Access<FeedEvent>, _user: CurrentUser<User>) -> bool {
        true
    }

    async fn subscribe(State(st): State<St>) -> Subscription<String> {
        st.pubsub.subscribe("feed")
    }

    async fn on_message(sse: &mut Sse, line: String) {
        sse.patch_elements(html! { li { (line) } });
    }
}

#[tokio::test]
async fn a_signed_out_tab_gets_no_more_messages_from_a_page_of_its_own() {
    let st = st();
    let client = TestClient::new(app(&st).page::<Feed>().build());
    signed_in(&client).await;
    let mut stream = client.stream("/feed", json!({ "tabId": "feed1" })).await;
    assert_eq!(stream.status, StatusCode::OK);
    st.pubsub.publish("feed", "first".to_owned()).await.unwrap();
    let first = stream.next_events(1, WAIT).await;
    assert!(first[0].value("elements").unwrap().contains("first"));
    let signed_out = client
        .send(
            Request::post("/signout")
                .header("cookie", cookies(&client))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    st.pubsub
        .publish("feed", "secret".to_owned())
        .await
        .unwrap();
    let rest = stream.until_end(WAIT).await.expect("the stream ends");
    let sent: String = rest.iter().flat_map(|e| e.lines("elements")).collect();
    assert!(!sent.contains("secret"), "{sent}");
    assert!(sent.contains("/signin"), "{sent}");
}
