//! `/profile`: the avatar, uploaded through Datastar's file binding and checked by its bytes;
//! `GET /avatar/{id}` serves it.

use crate::AppState;
use crate::db::{Error, User};
use crate::layout::{layout, top_bar};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dstar::csrf::CsrfToken;
use dstar::flash::Flash;
use dstar::form::{FieldErrors, errors_signal};
use dstar::prelude::*;
use dstar::session::CurrentUser;
use dstar::upload::{Accept, UploadedFile};

/// What the upload button sends: the file input's binding, `[{name, contents, mime}]`.
#[derive(serde::Deserialize)]
pub(crate) struct AvatarSignals {
    #[serde(default)]
    avatar: Vec<UploadedFile>,
}

/// An avatar: an image of at most 2 MB, whatever the browser says it is.
fn accepted() -> Accept {
    Accept::images().max_bytes(2 << 20)
}

pub(crate) struct Profile {
    user: User,
    avatar: i64,
    flash: Flash,
    csrf: CsrfToken,
}

#[dstar::page("/profile", state = AppState, title = "Profile", layout = layout)]
impl Profile {
    async fn mount(
        State(app): State<AppState>,
        CurrentUser(user): CurrentUser<User>,
        flash: Flash,
        csrf: CsrfToken,
    ) -> Result<Self, Error> {
        let avatar = app.db.avatar_version(user.id).await?;
        Ok(Profile {
            user,
            avatar,
            flash,
            csrf,
        })
    }

    fn render(&self) -> Markup {
        html! {
            (top_bar(&self.user, &self.csrf, "profile"))
            main {
                (self.flash)
                h1 { "Profile" }
                p { "Signed in as " strong { (self.user.email) } }
                (avatar(&self.user, self.avatar))
                form #avatar-form data-signals:_errors=(errors_signal(["avatar"])) data-signals:avatar="[]"
                    data-ds-refusal="avatar-refusal" data-on:submit__prevent=(event("upload")) {
                    div.field {
                        label for="avatar" { "New avatar (PNG, JPEG, GIF or WebP, at most 2 MB)" }
                        input #avatar type="file" name="avatar" accept="image/png,image/jpeg,image/gif,image/webp"
                            data-bind:avatar aria-describedby="avatar-error avatar-refusal"
                            data-attr:aria-invalid="$_errors.avatar ? 'true' : false";
                        p #avatar-error.field-error data-text="$_errors.avatar" {}
                        // what the server refused before reading it (a file far too large)
                        p #avatar-refusal.field-error role="alert" {}
                    }
                    button type="submit" { "Upload" }
                }
            }
        }
    }

    /// The body holds the file in base64 (4/3 of its size): 4 MB leaves room for a 2 MB image,
    /// and anything bigger is refused before it is read.
    #[event(limit = "4MB")]
    async fn upload(
        sse: &mut Sse,
        State(app): State<AppState>,
        CurrentUser(user): CurrentUser<User>,
        Signals(signals): Signals<AvatarSignals>,
    ) -> Result<(), Error> {
        let mut errors = FieldErrors::new();
        errors.track("avatar", None); // the form's one field: cleared when the upload succeeds
        match signals.avatar.first() {
            None => {
                errors.add("avatar", "Choose an image first");
            }
            Some(file) => match file.check(&accepted()) {
                Err(refused) => {
                    errors.add("avatar", refused.to_string());
                }
                Ok(()) => {
                    app.db
                        .set_avatar(user.id, file.sniffed_mime(), file.bytes())
                        .await?;
                    let version = app.db.avatar_version(user.id).await?;
                    sse.patch_elements(avatar(&user, version))
                        .patch_signals(json!({ "avatar": [] }));
                }
            },
        }
        sse.patch_errors(&errors);
        Ok(())
    }
}

fn avatar(user: &User, version: i64) -> Markup {
    html! {
        div #avatar-view {
            @if version > 0 {
                img.avatar src=(format!("/avatar/{}?v={version}", user.id)) alt="Your avatar";
            } @else {
                p.me { "No avatar yet." }
            }
        }
    }
}

/// `GET /avatar/{id}`: for signed-in users, with the type read from the bytes at upload.
pub(crate) async fn serve_avatar(
    State(app): State<AppState>,
    _viewer: CurrentUser<User>,
    Path(id): Path<i64>,
) -> Result<Response, Error> {
    let Some((mime, bytes)) = app.db.avatar(id).await? else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let mime = HeaderValue::from_str(&mime)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=31536000, immutable"),
            ),
        ],
        bytes,
    )
        .into_response())
}
