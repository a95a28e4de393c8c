// What a chosen file is, as the grant request names it, and sizes as people read them.

const BY_EXTENSION = {
  jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", heic: "image/heic", heif: "image/heif",
  webp: "image/webp", gif: "image/gif", avif: "image/avif",
};

/** The browser's type for `file`, else one from its extension (some pickers give none). */
export function contentType(file) {
  if (file.type) return file.type;
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  return BY_EXTENSION[ext] || "application/octet-stream";
}

/** `0.50 MB`, `3.7 MB`. */
export function megabytes(n) {
  return `${(n / 1048576).toFixed(n < 1048576 ? 2 : 1)} MB`;
}
