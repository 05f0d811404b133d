//! `/notes`: every note, live for every signed-in user, and who is on the page now.

use crate::AppState;
use crate::db::{Error, Note, User};
use crate::layout::{layout, top_bar};
use axum::extract::State;
use dstar::csrf::CsrfToken;
use dstar::flash::Flash;
use dstar::form::{Field, Form, Validate, errors_signal};
use dstar::prelude::*;
use dstar::presence::{Joined, Member};
use dstar::session::CurrentUser;

/// The topic a new note is published on; presence publishes its joins and leaves there too.
pub(crate) const TOPIC: &str = "notes";

#[derive(Debug, Default, serde::Deserialize, Validate)]
#[validate(crate = "dstar::form::validator")]
#[serde(default)]
pub(crate) struct NewNote {
    #[validate(length(max = 2000, message = "Keep it under 2,000 characters"))]
    body: String,
}

pub(crate) struct Notes {
    user: User,
    notes: Vec<Note>,
    online: Vec<Member<String>>,
    flash: Flash,
    csrf: CsrfToken,
}

/// Rendered again for every viewer on every change: a new note, someone arriving or leaving.
#[dstar::page("/notes", state = AppState, live = "notes", title = "All notes", layout = layout)]
impl Notes {
    /// Signed out: a 303 to `/signin` (and a tab signed out elsewhere is sent there too).
    async fn mount(
        State(app): State<AppState>,
        CurrentUser(user): CurrentUser<User>,
        flash: Flash,
        csrf: CsrfToken,
    ) -> Result<Self, Error> {
        Ok(Notes {
            notes: app.db.notes().await?,
            online: app.presence.list(TOPIC),
            user,
            flash,
            csrf,
        })
    }

    fn render(&self) -> Markup {
        html! {
            (top_bar(&self.user, &self.csrf, "notes"))
            main data-init=(connect()) {
                (self.flash)
                div.columns {
                    section {
                        form #new-note data-signals:_errors=(errors_signal(["body"]))
                            data-on:submit__prevent=(event("add")) {
                            (Field::new("body").kind("textarea").label("New note").placeholder("What's on your mind?"))
                            button type="submit" { "Add note" }
                        }
                        h2 { "Notes" }
                        ul #notes {
                            @for note in &self.notes {
                                li.note id=(format!("note-{}", note.id)) {
                                    span.author { (note.author) }
                                    time { (ago(note.created_at)) }
                                    p { (note.body) }
                                }
                            }
                            @if self.notes.is_empty() { li.note { "No notes yet: write the first one." } }
                        }
                    }
                    aside #online {
                        h2 { "Online now" }
                        ul { @for member in &self.online { li { (member.meta) } } }
                    }
                }
            }
        }
    }

    /// The stream is this tab being on the page: joined while it is open, gone when it closes.
    async fn on_connect(
        State(app): State<AppState>,
        CurrentUser(user): CurrentUser<User>,
    ) -> Joined {
        app.presence.join(TOPIC, user.id.to_string(), user.email)
    }

    #[event]
    async fn add(
        sse: &mut Sse,
        State(app): State<AppState>,
        CurrentUser(user): CurrentUser<User>,
        form: Form<NewNote>,
    ) -> Result<(), Error> {
        let (note, mut errors) = form.into_parts();
        let body = note.body.trim();
        if body.is_empty() {
            errors.add("body", "Write something first");
        }
        if errors.is_empty() {
            app.db.add_note(user.id, body).await?;
            // saved: a failed notice (Redis away) only delays the others' view until the next one
            if let Err(e) = app.pubsub.publish(TOPIC, ()).await {
                tracing::warn!(error = %e, "notes: a new note was saved but not announced");
            }
            sse.patch_signals(json!({ "body": "" }));
        }
        sse.patch_errors(&errors);
        Ok(())
    }
}

/// "just now", "5 min ago", …
fn ago(at: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    match now - at {
        s if s < 60 => "just now".to_owned(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}
