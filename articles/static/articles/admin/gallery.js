/* Drag gallery rows to reorder them; after a drop the order inputs are renumbered 0..n.
 * Without this script editors type the numbers themselves. Plain DOM, no inline script (CSP). */
"use strict";
{
    const ORDER_INPUT = "input.gallery-order";
    const FIELD_TAGS = ["INPUT", "TEXTAREA", "SELECT", "BUTTON", "LABEL", "A"];

    function rowsOf(tbody) {
        return Array.from(tbody.querySelectorAll(":scope > tr.form-row:not(.empty-form)"))
            .filter((row) => row.querySelector(ORDER_INPUT));
    }

    function renumber(tbody) {
        rowsOf(tbody).forEach((row, index) => {
            const input = row.querySelector(ORDER_INPUT);
            if (input.value !== String(index)) {
                input.value = String(index);
                input.dispatchEvent(new Event("change", {bubbles: true}));
            }
        });
    }

    // A row with errors is preceded by its error row: the two move together.
    function errorRowOf(row) {
        const previous = row && row.previousElementSibling;
        return previous && previous.classList.contains("row-form-errors") ? previous : null;
    }

    function nextFormRow(row) {
        let next = row.nextElementSibling;
        while (next && !next.classList.contains("form-row")) {
            next = next.nextElementSibling;
        }
        return next;
    }

    function moveRow(row, beforeRow) {
        const errors = errorRowOf(row);
        const anchor = beforeRow ? errorRowOf(beforeRow) || beforeRow : null;
        row.parentNode.insertBefore(row, anchor);
        if (errors) {
            row.parentNode.insertBefore(errors, row);
        }
    }

    function setUp(tbody) {
        let dragged = null;

        rowsOf(tbody).forEach((row) => {
            row.title = "拖动以调整顺序";
            row.style.cursor = "move";
            row.querySelectorAll("img").forEach((img) => {
                img.draggable = false;  // drag the row, not the preview picture
            });
            // Only start a drag from outside the inputs, so text in them can still be selected.
            row.addEventListener("mousedown", (event) => {
                row.draggable = !FIELD_TAGS.includes(event.target.tagName);
            });
            row.addEventListener("dragstart", (event) => {
                dragged = row;
                event.dataTransfer.effectAllowed = "move";
                event.dataTransfer.setData("text/plain", row.id);
                row.style.opacity = "0.4";
            });
            row.addEventListener("dragover", (event) => {
                if (!dragged || dragged === row) {
                    return;
                }
                event.preventDefault();
                event.dataTransfer.dropEffect = "move";
                const box = row.getBoundingClientRect();
                const after = event.clientY > box.top + box.height / 2;
                const beforeRow = after ? nextFormRow(row) : row;
                if (beforeRow !== dragged) {
                    moveRow(dragged, beforeRow);
                }
            });
            row.addEventListener("drop", (event) => {
                event.preventDefault();
            });
            row.addEventListener("dragend", () => {
                row.style.opacity = "";
                row.draggable = false;
                dragged = null;
                renumber(tbody);
            });
        });
    }

    document.addEventListener("DOMContentLoaded", () => {
        const bodies = new Set();
        document.querySelectorAll(ORDER_INPUT).forEach((input) => {
            const tbody = input.closest("tbody");
            if (tbody) {
                bodies.add(tbody);
            }
        });
        bodies.forEach(setUp);
    });
}
