export async function watch(_o: unknown): Promise<number> { throw new Error("todo"); }
