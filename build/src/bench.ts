export async function bench(): Promise<number> { throw new Error("todo"); }
