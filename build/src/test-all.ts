export async function testAll(): Promise<number> { throw new Error("todo"); }
