// Start-up progress: the engine worker counts the bytes Pyodide and the wheels fetch.
//
//   countFetchedBytes((loaded) => postMessage({type: "progress", loaded, total}));

/**
 * Wrap fetch so every byte Pyodide downloads is counted as it arrives.
 * @param {(loaded: number) => void} onBytes
 */
export function countFetchedBytes(onBytes) {
  const original = self.fetch.bind(self);
  let loaded = 0;
  self.fetch = async (input, init) => {
    const response = await original(input, init);
    if (!response.body) return response;
    const counter = new TransformStream({
      transform(chunk, controller) {
        loaded += chunk.byteLength;
        onBytes(loaded);
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(counter), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
