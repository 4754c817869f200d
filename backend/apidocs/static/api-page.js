// Starts Swagger UI on the page's container; the document URL comes from its data-spec-url attribute,
// so the page needs no inline script (Content-Security-Policy script-src 'self').
window.addEventListener("DOMContentLoaded", function () {
  var container = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: container.dataset.specUrl,
    domNode: container,
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
