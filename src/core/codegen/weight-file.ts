// The generated code's constants (weights, biases, unit offsets) live in one binary file read once
// by prunemap_model_load(), not in C source: a ResNet's 11M weights as C text would take the
// compiler minutes. Layout (little-endian): "PMW1", u32 float count, u32 int count, floats, int32s.
// Kernels refer to their arrays by offset, baked into the code as constants.

export class WeightFile {
  private readonly floats: Float32Array[] = [];
  private readonly ints: Int32Array[] = [];
  private floatCount = 0;
  private intCount = 0;

  /** Appends floats, returning their offset (padded to 8 floats: 32-byte aligned for vector loads). */
  addFloats(values: Float32Array): number {
    const at = this.floatCount;
    const padded = new Float32Array(Math.ceil(values.length / 8) * 8);
    padded.set(values);
    this.floats.push(padded);
    this.floatCount += padded.length;
    return at;
  }

  addInts(values: Int32Array): number {
    const at = this.intCount;
    this.ints.push(values);
    this.intCount += values.length;
    return at;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(12 + 4 * (this.floatCount + this.intCount));
    const view = new DataView(out.buffer);
    out.set([0x50, 0x4d, 0x57, 0x31]);
    view.setUint32(4, this.floatCount, true);
    view.setUint32(8, this.intCount, true);
    let at = 12;
    for (const a of [...this.floats, ...this.ints]) {
      for (let i = 0; i < a.length; i++, at += 4) {
        if (a instanceof Float32Array) view.setFloat32(at, a[i], true);
        else view.setInt32(at, a[i], true);
      }
    }
    return out;
  }
}
