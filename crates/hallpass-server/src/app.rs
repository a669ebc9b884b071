//! Building and running the application: open the store, migrate, wire the router and its layers,
//! serve until SIGTERM or SIGINT.

use crate::config::Config;
use crate::http::around::{AroundLayer, AroundService};
use crate::http::error::ApiError;
use crate::http::{cors, limit, origin};
use crate::state::AppState;
use crate::{openapi, pages, routes, serve};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hallpass_core::password::HashPool;
use hallpass_core::service::JwtPolicy;
use hallpass_core::{AuthService, Store};
use hallpass_store_sql::{notify::SharedStore, SqlStore};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(String),
    /// Anything else (threads, sockets).
    #[error("{0}")]
    Other(String),
}

/// Opens the store the URL names.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    let store = SqlStore::connect(
        &config.database_url,
        config.profile.clone(),
        config.max_connections,
    )
    .await
    .map_err(|e| StartError::Database(e.to_string()))?;
    if store.backend() == "sqlite" {
        return Ok(Arc::new(store));
    }
    // Several processes may share this database: keep their session caches coherent.
    Ok(Arc::new(SharedStore::start(store)))
}

/// The domain service over an open store.
pub fn service(config: &Config, store: Arc<dyn Store>) -> Result<AuthService, StartError> {
    let hasher = HashPool::start(
        config.hash_workers,
        config.hash_queue,
        config.password_algorithm,
    )
    .map_err(|e| StartError::Other(format!("cannot start hashing threads: {e}")))?;
    let origin = config.origin();
    Ok(AuthService::new(
        store,
        config.secret.clone(),
        config.profile.clone(),
        config.sessions,
        config.password_lengths,
        hasher,
        JwtPolicy {
            issuer: origin.clone(),
            audience: origin,
            ttl: config.jwt_ttl,
        },
    )
    .with_email_policy(config.email.policy.clone()))
}

/// Opens the store, migrates it when configured to, and builds the router.
pub async fn build(config: Config) -> Result<(App, AppState), StartError> {
    let store = open_store(&config).await?;
    build_on(config, store).await
}

/// Migrates the given store when configured to, starts the background work (the cross-process
/// invalidation listener) and builds the router. Must run inside a tokio runtime.
pub async fn build_on(
    config: Config,
    store: Arc<dyn Store>,
) -> Result<(App, AppState), StartError> {
    if config.migrate_on_start {
        let applied = store
            .migrate()
            .await
            .map_err(|e| StartError::Database(e.to_string()))?;
        if !applied.is_empty() {
            tracing::info!(
                statements = applied.len(),
                "database schema brought up to date"
            );
        }
    }
    let limits_shared = config.rate_limit.enabled
        && config.rate_limit.storage == crate::config::CounterStorage::Database;
    if limits_shared {
        store
            .prepare_counters()
            .await
            .map_err(|e| StartError::Database(e.to_string()))?;
    }
    let feed = store.invalidations();
    let auth = service(&config, store)?;
    let mailer = crate::mail::Mailer::start(&config.email).map_err(StartError::Other)?;
    let state = AppState::new(auth, config, mailer);
    if let Some(feed) = feed {
        tokio::spawn(apply_invalidations(feed, state.clone()));
    }
    if state.limiter.enabled() {
        limit::spawn_pruning(&state);
    }
    Ok((router(state.clone()), state))
}

/// Applies what other processes changed to this process's session cache, until the feed closes.
async fn apply_invalidations(
    mut feed: tokio::sync::broadcast::Receiver<hallpass_core::cache::Invalidation>,
    state: AppState,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match feed.recv().await {
            Ok(what) => {
                let kind = match &what {
                    hallpass_core::cache::Invalidation::Session(_)
                    | hallpass_core::cache::Invalidation::SessionDigest(_) => "session",
                    hallpass_core::cache::Invalidation::User(_) => "user",
                    hallpass_core::cache::Invalidation::All => "all",
                };
                metrics::counter!("hallpass_invalidations_received_total", "kind" => kind)
                    .increment(1);
                state.auth.apply_invalidation(&what);
            }
            // Messages were lost: nothing cached can be trusted.
            Err(RecvError::Lagged(_)) => state
                .auth
                .apply_invalidation(&hallpass_core::cache::Invalidation::All),
            Err(RecvError::Closed) => return,
        }
    }
}

/// The whole public HTTP surface with its layers (`/internal` too, unless it has a listener of
/// its own), and `GET /openapi.json` describing it.
pub fn router(state: AppState) -> App {
    // Rate limits count the route a request matched (route_layer: after routing), so no spelling
    // of a path reaches a handler without being counted; the origin guard comes after them. One
    // route layer for both: each `route_layer` call is another boxed service in every route.
    let guarded = |r: OpenApiRouter<AppState>| {
        wrap(r, |routes| {
            routes.method_not_allowed_fallback(not_found).route_layer(
                tower::ServiceBuilder::new()
                    .layer(limit::LimitLayer(state.clone()))
                    .layer(AroundLayer(origin::Guard(state.trusted.clone()))),
            )
        })
    };
    // The HTML pages (and Better Auth's HTML error page) are not part of the JSON API's document.
    let html_error_page = OpenApiRouter::from(pages::api_router());
    // Merged, not nested: the routes carry their full paths, so a request is routed once, without
    // the URI being rewritten for a nested router.
    let mut public = OpenApiRouter::new()
        .merge(guarded(routes::api_router().merge(html_error_page)))
        .merge(guarded(routes::rest::router()))
        .merge(routes::health::root_router())
        .merge(OpenApiRouter::from(pages::router(
            state.config.pages_enabled,
        )));
    if state.config.internal_listen.is_none() {
        public = public
            .nest("/internal", internal_routes())
            .merge(crate::metrics::router());
    }
    layered(public, state)
}

/// The internal listener's surface: `/internal/*` only, and its `GET /openapi.json`.
pub fn internal_router(state: AppState) -> App {
    layered(
        OpenApiRouter::new()
            .nest("/internal", internal_routes())
            .merge(crate::metrics::router()),
        state,
    )
}

fn internal_routes() -> OpenApiRouter<AppState> {
    wrap(routes::internal::router(), |routes| {
        routes.method_not_allowed_fallback(not_found)
    })
}

/// Applies what `OpenApiRouter` does not pass through (`method_not_allowed_fallback`) to the
/// routes, keeping their document.
fn wrap(
    routes: OpenApiRouter<AppState>,
    f: impl FnOnce(Router<AppState>) -> Router<AppState>,
) -> OpenApiRouter<AppState> {
    let (routes, doc) = routes.split_for_parts();
    let mut wrapped = OpenApiRouter::from(f(routes));
    *wrapped.get_openapi_mut() = doc;
    wrapped
}

/// The application as served: the router inside the layers every request passes.
pub type App = serve::FrontService<AroundService<cors::Cors, Router>>;

fn layered(routes: OpenApiRouter<AppState>, state: AppState) -> App {
    crate::metrics::handle();
    let front = serve::Front::new(&state.config.server);
    let cors = AroundLayer(cors::Cors(state.trusted.clone()));
    let routed = openapi::serve(routes, &state)
        // Every matched route is counted and timed by its template.
        .route_layer(AroundLayer(crate::metrics::Track))
        // The root routes (health, the document) answer a wrong method as every other path does.
        .method_not_allowed_fallback(not_found)
        .fallback(not_found)
        .with_state(state);
    // The layers every request passes wrap the router, not each of its routes: `Router::layer`
    // boxes the layer into every route, and each boxed layer clones the boxes inside it on every
    // request (21 boxed clones a request with these two inside; 6 now).
    tower::ServiceBuilder::new()
        .layer(front)
        .layer(cors)
        .service(routed)
}

async fn not_found() -> Response {
    ApiError::not_found().into_response()
}

/// Serves until SIGTERM or SIGINT, then finishes the requests in flight.
pub async fn serve(config: Config) -> Result<(), StartError> {
    let listen = config.listen;
    let started = std::time::Instant::now();
    let (app, state) = build(config).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| StartError::Other(format!("cannot listen on {listen}: {e}")))?;
    tracing::info!(
        %listen,
        base_url = %state.config.base_url,
        database = state.auth.store().backend(),
        secret = ?state.config.secret_source,
        startup_ms = started.elapsed().as_millis() as u64,
        "hallpass is listening"
    );
    if let Some(internal) = state.config.internal_listen {
        let listener = tokio::net::TcpListener::bind(internal)
            .await
            .map_err(|e| StartError::Other(format!("cannot listen on {internal}: {e}")))?;
        tracing::info!(%internal, "internal bridge listening");
        let app = internal_router(state.clone());
        let limits = state.config.server.clone();
        tokio::spawn(async move {
            let forever = std::future::pending::<()>();
            if let Err(e) = serve::serve(listener, app, &limits, forever).await {
                tracing::error!(error = %e, "internal listener stopped");
            }
        });
    }
    serve::serve(listener, app, &state.config.server, shutdown_signal())
        .await
        .map_err(|e| StartError::Other(e.to_string()))?;
    tracing::info!("hallpass stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
