// Uploads a file to the router with tus-js-client, as a browser or a phone app would, and reports what happens:
//   node tus-upload.mjs <endpoint> <file> <token> <delay-ms per chunk>
// Lines: "progress <sent> <total>", "key <object key>" (from the completing answer), "done <upload url>", "error <message>".
import { readFileSync } from 'node:fs';
import { Upload } from 'tus-js-client';

const [endpoint, file, token, delay] = process.argv.slice(2);
const upload = new Upload(readFileSync(file), {
  endpoint,
  headers: { Authorization: `Bearer ${token}` },
  chunkSize: 1024 * 1024,
  // Enough tries to outlast a router being restarted.
  retryDelays: [0, 500, 1000, 1000, 2000, 2000, 3000, 3000, 5000, 5000, 5000, 5000, 5000, 5000],
  metadata: { filename: 'big.png', filetype: 'image/png' },
  onBeforeRequest: () => new Promise((resolve) => setTimeout(resolve, Number(delay || 0))),
  onProgress: (sent, total) => console.log(`progress ${sent} ${total}`),
  onAfterResponse: (_request, response) => {
    const key = response.getHeader('EdgeRouter-Object-Key');
    if (key) console.log(`key ${key}`);
  },
  onError: (error) => {
    console.log(`error ${error}`);
    process.exit(1);
  },
  onSuccess: () => console.log(`done ${upload.url}`),
});
upload.start();
