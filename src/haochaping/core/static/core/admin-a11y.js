"use strict";
// The admin's autocomplete boxes (Select2) are named only by the value they show, so an empty one has no accessible
// name (axe: aria-input-field-name). Name each by its field's label as well, once Select2 has drawn them, and again
// when an inline row is added.
{
    function nameComboboxes() {
        document.querySelectorAll(".select2-container").forEach((container) => {
            const select = container.previousElementSibling;
            if (!select || !select.id) {
                return;
            }
            const label = document.querySelector(`label[for="${select.id}"]`);
            if (!label) {
                return;
            }
            if (!label.id) {
                label.id = `${select.id}-label`;
            }
            container.querySelectorAll("[role=combobox], [role=textbox]").forEach((box) => {
                const own = (box.getAttribute("aria-labelledby") || "").split(" ").filter((id) => id && id !== label.id);
                box.setAttribute("aria-labelledby", [label.id, ...own].join(" "));
            });
        });
    }
    // Select2 draws its boxes from jQuery's ready handlers, which jQuery 3 runs asynchronously: on a busy machine
    // that can be after the load event. So name whatever is there at load, and every box drawn afterwards.
    window.addEventListener("load", () => {
        nameComboboxes();
        new MutationObserver((changes) => {
            if (changes.some((c) => [...c.addedNodes].some((n) => n.nodeType === 1 &&
                    (n.matches(".select2-container") || n.querySelector(".select2-container"))))) {
                nameComboboxes();
            }
        }).observe(document.body, {childList: true, subtree: true});
    });
    document.addEventListener("DOMContentLoaded", () => setTimeout(nameComboboxes, 0));
    document.addEventListener("formset:added", () => setTimeout(nameComboboxes, 0));
}
