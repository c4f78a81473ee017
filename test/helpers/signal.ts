/** A promise and the function that settles it: a test's signal to a fake upstream that waits for it. */
export function signal(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}
