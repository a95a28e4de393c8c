// What `make web` (and `make dev`) writes as qdn-capture.config.js: the API and the bucket origin
// this deployment talks to. The module reads nothing else to find them.
export default {
  api: "https://api.quickdumpnow.com",
  bucketOrigin: "https://qdn-uploads.s3.us-east-1.amazonaws.com",
};
