// The row-sparse (CSR) format over the GEMM view W2[F][C·K] (DOMAIN.md §2; column j = c·K + k),
// for unstructured and N:M pruning (N:M groups run along input channels at each kernel position,
// so a kept N:M weight is just a nonzero of its row). Rows may be stored in any order (the thread
// reorder of thread-balance.ts); `rowFilter` says which filter each stored row is:
//   rowStart[r] … rowStart[r+1]−1   the kept weights of stored row r (filter rowFilter[r])
//   column[i], values[i]             column j = c·K + k and weight of kept weight i, columns ascending
// A filter with no kept weight is a row with no entries: its output is just its bias.

export interface RowSparseFormat {
  readonly rows: number;
  readonly columns: number;
  readonly rowFilter: Int32Array;
  readonly rowStart: Int32Array;
  readonly column: Int32Array;
  readonly values: Float32Array;
}

/** W2 flat [rows][columns] and its mask (1 keeps; undefined keeps all); `order` = stored row → filter (default identity). */
export function rowSparseFormat(w: ArrayLike<number>, mask: ArrayLike<number> | undefined, rows: number, columns: number, order?: ArrayLike<number>): RowSparseFormat {
  const rowFilter = Int32Array.from(order ?? Array.from({ length: rows }, (_, i) => i));
  const rowStart = new Int32Array(rows + 1);
  const col: number[] = [], vals: number[] = [];
  for (let r = 0; r < rows; r++) {
    const f = rowFilter[r];
    for (let j = 0; j < columns; j++) {
      const i = f * columns + j;
      if (mask && !mask[i]) continue;
      col.push(j);
      vals.push(w[i]);
    }
    rowStart[r + 1] = col.length;
  }
  return { rows, columns, rowFilter, rowStart, column: Int32Array.from(col), values: Float32Array.from(vals) };
}

/** Kept weights per filter (the work of each row), in filter order. */
export function rowWork(mask: ArrayLike<number> | undefined, rows: number, columns: number): number[] {
  return Array.from({ length: rows }, (_, f) => {
    if (!mask) return columns;
    let n = 0;
    for (let j = 0; j < columns; j++) n += mask[f * columns + j] ? 1 : 0;
    return n;
  });
}
