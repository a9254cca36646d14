App({
  onLaunch() {
    // The session is created lazily by utils/api.js on the first call that needs it.
  },
});
