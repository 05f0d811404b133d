//! The page's small inline script: what Datastar's client does not do on its own, and dstar
//! needs (see [`glue_script`]).

use maud::{Markup, PreEscaped, html};

/// The glue, before the debug-only part. Plain ES2017, no dependencies; every handler catches
/// its own errors, and the fetch wrapper falls back to the plain `fetch` on any error of its own.
const GLUE: &str = r#"(()=>{'use strict';try{
const W=window,D=document,F=W.fetch,open=new Set;let gone=false;
const token=()=>{const m=D.querySelector('meta[name="dstar-csrf"]');return m&&m.content||''};
W.fetch=function(input,init){
try{
const h=new Headers(init&&init.headers||(input instanceof Request?input.headers:undefined));
if(h.has('datastar-request')){
const url=new URL(input instanceof Request?input.url:String(input),location.href);
if(url.origin===location.origin){
const t=token();if(t&&!h.has('x-csrf-token'))h.set('x-csrf-token',t);
const extra={headers:h};let c=null;
if(h.has('x-dstar-rendered')){
c=new AbortController();const s=init&&init.signal;
if(s){if(s.aborted)c.abort();else s.addEventListener('abort',()=>{c.abort();open.delete(c)},{once:true})}
if(gone)c.abort();
for(const o of open)if(o.signal.aborted)open.delete(o);
open.add(c);extra.signal=c.signal}
let p=F.call(W,input,Object.assign({},init,extra));
if(c)p.catch(()=>open.delete(c));
/*DEBUG*/
return p}}}catch(_){}
return F.call(W,input,init)};
let closed=false;
W.addEventListener('pagehide',()=>{gone=true;for(const c of open){if(!c.signal.aborted){closed=true;try{c.abort()}catch(_){}}}open.clear()});
W.addEventListener('pageshow',e=>{gone=false;if(e.persisted&&closed)location.reload()});
const say=s=>s===413?'Too large to send.':s===403?'Refused. Reload the page and try again.':s===400||s===415||s===422?'The server could not read that request.':s===429||s===503?'The server is busy; try again.':'Request failed (status '+s+').';
const shown=new WeakSet;
const box=(el,make)=>{const h=el&&el.closest?el.closest('[data-ds-refusal]'):null;let b=h?D.getElementById(h.getAttribute('data-ds-refusal')):null;
if(!b)b=D.getElementById('ds-refusal');
if(!b&&make&&D.body){b=D.createElement('div');b.id='ds-refusal';b.setAttribute('role','alert');D.body.appendChild(b)}
if(b&&make&&!b.hasAttribute('role'))b.setAttribute('role','alert');
return b};
D.addEventListener('datastar-fetch',e=>{try{const d=e.detail||{};
if(d.type==='error'){const b=box(d.el,true);if(b){b.textContent=say(Number(d.argsRaw&&d.argsRaw.status)||0);shown.add(b)}}
else if(d.type==='started'){const b=box(d.el,false);if(b&&shown.has(b)){b.textContent='';shown.delete(b)}}
}catch(_){}})
}catch(_){}})()"#;

/// In debug builds: the text of every 4xx response to a Datastar request, in the console (the
/// client reads no body but a `200`'s). Read before the caller gets the response, at most 1 s,
/// so the caller's abort cannot cut it.
const DEBUG: &str = r#"p=p.then(r=>{if(r.status<400||r.status>=500)return r;
return Promise.race([r.clone().text().then(b=>{console.error('dstar: '+r.status+' from '+url.pathname+': '+b)}),new Promise(z=>setTimeout(z,1000))]).catch(()=>{}).then(()=>r)});"#;

/// The inline script every dstar page carries, after the Datastar client
/// ([`PageContext::client_script`](super::PageContext::client_script) writes both). It:
///
/// - **sends the CSRF token as a header**: same-origin Datastar requests (those with the
///   `Datastar-Request` header) get `x-csrf-token` from `<meta name="dstar-csrf">` when the page
///   has one, so `@post(url, {contentType: 'form'})` on a multipart form passes the
///   [`Csrf`](crate::csrf::Csrf) layer (which never searches a multipart body), and a large body
///   is not read by the layer at all;
/// - **shows refusals**: on a response with an error status (Datastar reads no body then) it writes
///   a short message into the element named by the nearest `data-ds-refusal="id"` around the
///   element that sent the request (a form's message line, say: not one Datastar writes, such
///   as a `data-text` element, which would overwrite it), else into `#ds-refusal` (made
///   at the end of `<body>` with `role="alert"` when the page has none): `413` "Too large to send.", `403` "Refused. Reload the page and try again.",
///   `400`/`415`/`422` "The server could not read that request.", `429`/`503` "The server is busy;
///   try again.", others "Request failed (status N)."; the next request from there clears it;
/// - **in debug builds**, logs the body of every `4xx` response to a Datastar request with
///   `console.error`;
/// - **closes the page's stream on `pagehide`**: it aborts every open page-stream request (those
///   with the `x-dstar-rendered` header), so a tab that navigates away, also into the
///   back/forward cache, ends its stream at once; a page whose stream was closed so reloads when
///   it is shown again from that cache, to connect afresh.
///
/// It holds no token itself (the token is in the meta tag, attribute-escaped), never throws, and
/// works on a page without CSRF tokens.
///
/// ```
/// let script = dstar::page::glue_script().into_string();
/// assert!(script.starts_with("<script>") && script.ends_with("</script>"));
/// assert!(script.contains("x-csrf-token") && script.contains("pagehide"));
/// assert_eq!(script.matches("</script>").count(), 1);
/// ```
pub fn glue_script() -> Markup {
    glue_script_with_nonce(None)
}

/// [`glue_script`] with the page's CSP nonce, when a strict policy is on
/// ([`SecurityHeaders::strict_csp`](crate::headers::SecurityHeaders::strict_csp)).
///
/// ```
/// let script = dstar::page::glue_script_with_nonce(Some("abc")).into_string();
/// assert!(script.starts_with(r#"<script nonce="abc">"#));
/// ```
pub fn glue_script_with_nonce(nonce: Option<&str>) -> Markup {
    let debug = if cfg!(debug_assertions) { DEBUG } else { "" };
    html! { script nonce=[nonce] { (PreEscaped(GLUE.replace("/*DEBUG*/", debug))) } }
}
