// The page a web app would serve: Uppy (core + tus) uploads an image the page drew, with an upload token, to the
// router on another origin. Bundled by esbuild for the browser test (tests/EdgeRouter.Tests/Uploads/Tus/UppyBrowserTests.cs).
import Uppy from '@uppy/core';
import Tus from '@uppy/tus';

// A 512 x 512 PNG of noise (about 1 MB, so it goes in several chunks), drawn by the browser itself.
function drawImage() {
  const canvas = document.createElement('canvas');
  canvas.width = 512;
  canvas.height = 512;
  const context = canvas.getContext('2d');
  const pixels = context.createImageData(512, 512);
  for (let i = 0; i < pixels.data.length; i += 65536) {
    crypto.getRandomValues(pixels.data.subarray(i, Math.min(i + 65536, pixels.data.length)));
  }
  for (let i = 3; i < pixels.data.length; i += 4) pixels.data[i] = 255;
  context.putImageData(pixels, 0, 0);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
}

window.uploadWithUppy = async (endpoint, token) => {
  const report = { progress: [], key: null, url: null, error: null, size: 0 };
  const uppy = new Uppy({ autoProceed: false });
  uppy.use(Tus, {
    endpoint,
    headers: { Authorization: `Bearer ${token}` },
    chunkSize: 128 * 1024,
    retryDelays: [0, 500],
    onAfterResponse: (_request, response) => {
      const key = response.getHeader('EdgeRouter-Object-Key');
      if (key) report.key = key;
    },
  });
  uppy.on('upload-progress', (_file, progress) => report.progress.push(progress.bytesUploaded));
  const blob = await drawImage();
  report.size = blob.size;
  uppy.addFile({ name: 'drawn.png', type: 'image/png', data: blob });
  const result = await uppy.upload();
  if (result.failed.length > 0) report.error = String(result.failed[0].error);
  else report.url = result.successful[0].uploadURL;
  return report;
};

window.showImage = (url) => new Promise((resolve) => {
  const image = new Image();
  image.onload = () => resolve(image.naturalWidth);
  image.onerror = () => resolve(-1);
  image.src = url;
  document.body.appendChild(image);
});
