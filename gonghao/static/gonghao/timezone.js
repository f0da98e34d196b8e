// Tell the server the viewer's time zone so times are shown in it (see ViewerTimeZoneMiddleware).
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("gonghao_tz=" + zone) === -1) {
      document.cookie = "gonghao_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* older browsers: the server's zone is used */ }
})();
