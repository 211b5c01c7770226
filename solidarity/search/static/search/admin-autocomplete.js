/* The admin's autocomplete widgets post what is typed instead of putting it in the URL: a
   name in `/admin/autocomplete/?term=…` lands in the reverse proxy's access log (threat model
   M19). The server refuses a term sent by GET (search/private_autocomplete.py).

   Why this way: admin/base_site.html loads this file with `defer`, on every admin page. A
   deferred script runs once the page is parsed, so after the widgets' own scripts (jQuery,
   select2, Django's admin/js/autocomplete.js, all ordinary scripts of the page's media), and
   before DOMContentLoaded, on which Django's script sets the widgets up by calling
   `djangoAdminSelect2`. Replacing that function here means the widgets are made by ours: inline
   rows and rows added later too, whatever ModelAdmin or inline renders them. Shadowing
   admin/js/autocomplete.js with a file of the same path would instead depend on the order in
   which staticfiles' finders and apps are searched, and a change there would silently bring the
   GET back. Select2's options cannot do it either: the widget's own `data-ajax--type="GET"`
   attribute wins over them; the `transport` below is a function no attribute overrides.

   The CSRF cookie is HttpOnly, so the token comes from the page's csrfmiddlewaretoken field
   (the change form and the header's logout form carry one). No inline script: the CSP forbids
   it. */
"use strict";
(function () {
  var $ = window.django && window.django.jQuery;
  if (!$ || !$.fn.djangoAdminSelect2) {
    return;
  }

  function csrfToken(element) {
    var scope = element.form || document;
    var field = scope.querySelector("input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // As Django 5.2's admin/js/autocomplete.js, with the request posted.
  $.fn.djangoAdminSelect2 = function () {
    $.each(this, function (i, element) {
      $(element).select2({
        ajax: {
          data: function (params) {
            return {
              term: params.term,
              page: params.page,
              app_label: element.dataset.appLabel,
              model_name: element.dataset.modelName,
              field_name: element.dataset.fieldName
            };
          },
          transport: function (params, success, failure) {
            var request = $.ajax($.extend({}, params, {
              type: "POST",
              headers: { "X-CSRFToken": csrfToken(element) }
            }));
            request.then(success);
            request.fail(failure);
            return request;
          }
        }
      });
    });
    return this;
  };
})();
