export async function watch(): Promise<number> { throw new Error("todo"); }
