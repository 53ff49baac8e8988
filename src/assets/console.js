// The API console (/docs/try): Swagger UI, vendored from npm at build time (site/),
// on this service's own /openapi.json. Requests go to this origin; "Authorize" takes
// the ADMIN_TOKEN or an API key for the calls that need one (docs/teams.md).
/* global SwaggerUIBundle */
SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  // Deep links put an anchor inside each operation's toggle button, a control within a
  // control that screen readers cannot reach (axe-core: nested-interactive).
  deepLinking: false,
  tryItOutEnabled: true,
  // The default puts a badge from validator.swagger.io on the page: nothing leaves
  // this origin (and the CSP would refuse it anyway).
  validatorUrl: null,
  // Its highlighter colours each token with a style attribute, several below 4.5:1 on
  // its dark background; plain text reads better.
  syntaxHighlight: false,
});

// Gaps of Swagger UI's markup, which axe-core finds once an operation or the
// authorization dialog is open: an example that scrolls but cannot take the keyboard's
// focus, and a parameter's select and the request body's text area that name nothing.
// Filled in as it draws.
new MutationObserver(() => {
  for (const pre of document.querySelectorAll("#swagger-ui pre:not([tabindex])")) pre.tabIndex = 0;
  for (const select of document.querySelectorAll("#swagger-ui tr[data-param-name] select:not([aria-label])")) {
    select.setAttribute("aria-label", select.closest("tr").dataset.paramName);
  }
  for (const body of document.querySelectorAll("#swagger-ui textarea.body-param__text:not([aria-label])")) {
    body.setAttribute("aria-label", "Request body (JSON)");
  }
  // The authorization dialog: a close button with only an icon, and "Logout" named
  // "Remove authorization", which speech input cannot match to what is shown.
  for (const close of document.querySelectorAll("#swagger-ui .close-modal:not([aria-label])")) {
    close.setAttribute("aria-label", "Close");
  }
  for (const logout of document.querySelectorAll('#swagger-ui button[aria-label="Remove authorization"]')) {
    logout.removeAttribute("aria-label");
  }
}).observe(document.getElementById("swagger-ui"), { childList: true, subtree: true });
