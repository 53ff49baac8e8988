//! The pages people use in a browser: HTML rendered on the server (readable without
//! JavaScript). Their stylesheet, scripts and icon are the files of `src/assets/`,
//! served by Workers Static Assets at `/static/<name>`, not by this code (see `site/`).

pub mod chart;
pub mod dashboard;
pub mod docs_search;
pub mod html;
pub mod pages;
pub mod qr;
pub mod settings;
