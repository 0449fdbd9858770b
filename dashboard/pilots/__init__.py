"""试点建设 (/pilots): the pilot programme as a logged-in user sees it within their scope, and its exports."""
