/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * generate.c - realistic synthetic Moroccan persons, vehicles and hotlist
 * entries, for tests, the demo and the benchmarks (10 million persons
 * searched by name). Real names in Arabic script and in the Latin
 * spellings civil registries used, with the frequencies of real life;
 * CINs with the letters of real issuing offices; plates with real
 * prefecture codes and series letters; real makes, models and WMIs.
 *
 * Every record is a pure function of (seed, kind, index): record k is drawn
 * from its own PRNG stream, so the order of calls does not matter, any
 * record can be made again alone, and a vehicle can name the CIN of person
 * k without the persons being stored. CINs, plates and VINs are unique:
 * the index goes through a keyed permutation (a Feistel network with cycle
 * walking) of a space that is then cut into weighted blocks (an issuing
 * office, a prefecture and its series letter), so that frequent offices
 * and prefectures own more blocks while no number is given twice.
 *
 * No allocation: table strings are copied into the caller's fixed arrays.
 * The cumulative weights of the tables are computed once (pthread_once).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "records/generate.h"

#define GEN_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ================================================================ tables */

/*
 * A name: Arabic script, relative frequency, a nickname people use for it
 * (or NULL), and its Latin spellings, the most common first, drawn with
 * the weights 56, 22, 11, 7 and 4 by rank (gen_spell_cum).
 */
#define GEN_SPELL_MAX 5
struct gen_name {
    const char *ar;
    uint16_t w;
    const char *nick;
    const char *lat[GEN_SPELL_MAX];
};
#define NM(ar, w, nick, ...)                                                                       \
    {                                                                                              \
        ar, w, nick,                                                                               \
        {                                                                                          \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }

static const uint32_t gen_spell_cum[GEN_SPELL_MAX] = {56, 78, 89, 96, 100};

/* Men's given names; محمد alone is about a tenth of them, compounds aside. */
static const struct gen_name gen_male[] = {
    NM("محمد", 1450, "Simo", "Mohamed", "Mohammed", "Mohammad", "Muhammad", "Mhamed"),
    NM("أحمد", 420, "Hmida", "Ahmed", "Ahmad", "Hmad"),
    NM("يوسف", 330, NULL, "Youssef", "Youssif", "Yousef", "Youcef"),
    NM("عبد الله", 300, "Abdou", "Abdellah", "Abdallah", "Abdelah", "Abdullah"),
    NM("مصطفى", 240, "Mousta", "Mustapha", "Mustafa", "Moustapha", "Mostafa"),
    NM("حسن", 230, NULL, "Hassan", "Hasan", "Hassane"),
    NM("رشيد", 210, NULL, "Rachid", "Rashid"),
    NM("سعيد", 210, NULL, "Said", "Saïd", "Saaid"),
    NM("إبراهيم", 190, NULL, "Brahim", "Ibrahim", "Ibrahime"),
    NM("خالد", 190, NULL, "Khalid", "Khaled"),
    NM("عبد الرحمن", 160, "Abdou", "Abderrahmane", "Abderrahman", "Abdelrahman", "Abdurrahman"),
    NM("عبد الرحيم", 160, "Rahim", "Abderrahim", "Abderrahime", "Abdelrahim"),
    NM("عمر", 160, NULL, "Omar", "Oumar"),
    NM("علي", 150, NULL, "Ali"),
    NM("إدريس", 150, "Dris", "Driss", "Idriss", "Idris"),
    NM("حميد", 150, "Hmida", "Hamid", "Hmid"),
    NM("يونس", 150, NULL, "Younes", "Younnes", "Younis", "Yunes"),
    NM("ياسين", 140, NULL, "Yassine", "Yacine", "Yasine", "Yassin"),
    NM("عبد العزيز", 140, "Aziz", "Abdelaziz", "Abdelaaziz", "Abdulaziz"),
    NM("أيوب", 140, NULL, "Ayoub", "Ayyoub", "Ayub"),
    NM("حمزة", 140, NULL, "Hamza", "Hamzah"),
    NM("أمين", 130, NULL, "Amine", "Amin"),
    NM("محمد أمين", 130, "Amine", "Mohamed Amine", "Mohammed Amine", "Mohamed-Amine"),
    NM("عبد القادر", 110, "Kaddour", "Abdelkader", "Abdelkadir", "Abdelqader"),
    NM("عبد اللطيف", 120, "Latif", "Abdellatif", "Abdelatif", "Abdellatef"),
    NM("عبد الكريم", 120, "Krimo", "Abdelkrim", "Abdelkarim", "Abdelkarime"),
    NM("نور الدين", 120, "Nordine", "Noureddine", "Nour-Eddine", "Nourdine", "Nour Eddine"),
    NM("عبد السلام", 120, NULL, "Abdeslam", "Abdessalam", "Abdesselam", "Abdesalam"),
    NM("إسماعيل", 120, "Smail", "Ismail", "Ismaïl", "Smail"),
    NM("مهدي", 120, NULL, "Mehdi", "Mahdi"),
    NM("أنس", 120, NULL, "Anas", "Anass"),
    NM("زكرياء", 120, "Zaki", "Zakaria", "Zakariae", "Zakariya", "Zakarya"),
    NM("سفيان", 120, NULL, "Soufiane", "Sofiane", "Soufyane", "Sufian"),
    NM("هشام", 120, NULL, "Hicham", "Hichame", "Hisham"),
    NM("عبد الإله", 110, NULL, "Abdelilah", "Abdelillah"),
    NM("الحسين", 110, NULL, "Lhoussaine", "El Houssine", "Lhoussine", "El Houcine"),
    NM("الحسن", 100, NULL, "Lahcen", "Lahsen", "El Hassane", "Elhassan"),
    NM("كريم", 100, NULL, "Karim"),
    NM("عادل", 100, NULL, "Adil", "Adel"),
    NM("عبد الرزاق", 100, "Razak", "Abderrazak", "Abderrazzak", "Abderrazaq", "Abdelrazak"),
    NM("عبد الحق", 90, NULL, "Abdelhak", "Abdelhaq"),
    NM("عبد الحميد", 90, "Hamid", "Abdelhamid"),
    NM("أسامة", 90, NULL, "Oussama", "Ousama", "Osama"),
    NM("جمال", 90, NULL, "Jamal", "Jamel", "Djamal"),
    NM("طارق", 90, NULL, "Tarik", "Tariq", "Tarek"),
    NM("مراد", 90, NULL, "Mourad", "Morad", "Murad"),
    NM("رضوان", 90, NULL, "Redouane", "Ridouane", "Radouane", "Redwan"),
    NM("عثمان", 90, NULL, "Othmane", "Otmane", "Outhmane", "Osman"),
    NM("إلياس", 90, NULL, "Ilyas", "Ilias", "Ilyass", "Elias"),
    NM("بلال", 90, NULL, "Bilal"),
    NM("عبد المجيد", 85, "Majid", "Abdelmajid", "Abdelmadjid"),
    NM("مروان", 85, NULL, "Marouane", "Marwane", "Marwan"),
    NM("معاذ", 80, NULL, "Mouad", "Moad", "Muad"),
    NM("أشرف", 80, NULL, "Achraf", "Ashraf"),
    NM("أيمن", 80, NULL, "Aymane", "Aimane", "Ayman"),
    NM("آدم", 80, NULL, "Adam"),
    NM("عماد", 80, NULL, "Imad", "Imade", "Emad"),
    NM("نبيل", 80, NULL, "Nabil"),
    NM("كمال", 80, NULL, "Kamal", "Kamel"),
    NM("سمير", 80, NULL, "Samir"),
    NM("توفيق", 80, NULL, "Taoufik", "Toufik", "Tawfik", "Taoufiq"),
    NM("جواد", 80, NULL, "Jaouad", "Jawad"),
    NM("وليد", 80, NULL, "Walid", "Oualid"),
    NM("رضا", 80, NULL, "Reda", "Rida"),
    NM("العربي", 75, NULL, "Larbi", "El Arbi", "Elarbi"),
    NM("عبد الغني", 70, "Ghani", "Abdelghani", "Abdelghni"),
    NM("عبد الواحد", 70, NULL, "Abdelouahed", "Abdelwahed", "Abdelouahad"),
    NM("عبد الفتاح", 70, NULL, "Abdelfattah", "Abdelfatah"),
    NM("عبد الجليل", 70, "Jalil", "Abdeljalil"),
    NM("عبد العالي", 70, NULL, "Abdelali", "Abdelaali"),
    NM("بدر", 70, NULL, "Badr", "Badre"),
    NM("فؤاد", 70, NULL, "Fouad", "Fuad"),
    NM("محسن", 70, NULL, "Mohcine", "Mohsine", "Mohsin"),
    NM("زهير", 70, NULL, "Zouhair", "Zohair", "Zuhair"),
    NM("سليمان", 70, NULL, "Soulaimane", "Slimane", "Souleymane", "Soulaiman"),
    NM("صلاح الدين", 70, NULL, "Salaheddine", "Salah-Eddine", "Salah Eddine"),
    NM("عصام", 70, NULL, "Issam", "Isam"),
    NM("منير", 70, NULL, "Mounir", "Munir"),
    NM("المصطفى", 65, "Mousta", "El Mostafa", "Elmostafa", "Mostafa"),
    NM("المهدي", 60, NULL, "El Mehdi", "Elmehdi", "El Mahdi"),
    NM("بوشعيب", 60, "Chaib", "Bouchaib", "Bouchaïb", "Bouchaab"),
    NM("عبد الصمد", 60, "Samad", "Abdessamad", "Abdesamad"),
    NM("عز الدين", 60, NULL, "Azzeddine", "Ezzeddine", "Azeddine", "Izeddine"),
    NM("ياسر", 60, NULL, "Yasser", "Yassir", "Yaser"),
    NM("يحيى", 60, NULL, "Yahya", "Yahia"),
    NM("سعد", 60, NULL, "Saad"),
    NM("حكيم", 60, NULL, "Hakim"),
    NM("فريد", 60, NULL, "Farid"),
    NM("طه", 60, NULL, "Taha"),
    NM("عبد الهادي", 50, NULL, "Abdelhadi"),
    NM("عبد النبي", 50, NULL, "Abdennabi", "Abdenbi", "Abdennebi"),
    NM("عبد الوهاب", 50, "Wahab", "Abdelouahab", "Abdelwahab"),
    NM("عبد المالك", 50, "Malek", "Abdelmalek", "Abdelmalik"),
    NM("عبد الحكيم", 50, "Hakim", "Abdelhakim"),
    NM("الحبيب", 50, NULL, "Lahbib", "El Habib", "Habib"),
    NM("امبارك", 50, NULL, "Mbarek", "M'barek", "Moubarak"),
    NM("رياض", 50, NULL, "Riad", "Ryad"),
    NM("فيصل", 50, NULL, "Fayçal", "Faical", "Faysal", "Fayssal"),
    NM("وائل", 50, NULL, "Wail", "Wael"),
    NM("خليل", 50, NULL, "Khalil"),
    NM("أنور", 50, NULL, "Anouar", "Anwar"),
    NM("حسام", 50, NULL, "Houssam", "Hossam"),
    NM("عدنان", 50, NULL, "Adnane", "Adnan"),
    NM("زياد", 50, NULL, "Ziad", "Ziyad"),
    NM("سهيل", 50, NULL, "Souhail", "Souhayl", "Suhail"),
    NM("علاء الدين", 50, NULL, "Alaeddine", "Alae Eddine", "Alaa Eddine"),
    NM("عبد الحفيظ", 40, "Hafid", "Abdelhafid"),
    NM("عبد الكبير", 40, NULL, "Abdelkebir", "Abdelkbir"),
    NM("عبد المنعم", 40, NULL, "Abdelmounaim", "Abdelmonaim", "Abdelmoneim"),
    NM("الهاشمي", 40, NULL, "Hachmi", "El Hachmi", "Hachemi"),
    NM("الجيلالي", 40, NULL, "Jilali", "El Jilali", "Djilali"),
    NM("المعطي", 40, NULL, "Maati", "El Maati"),
    NM("الطاهر", 40, NULL, "Tahar", "Taher", "Ettahar"),
    NM("الطيب", 40, NULL, "Taïeb", "Tayeb", "Taib"),
    NM("المختار", 40, NULL, "Mokhtar", "El Mokhtar", "Lmokhtar"),
    NM("ميلود", 40, NULL, "Miloud", "Milloud"),
    NM("بدر الدين", 40, NULL, "Badreddine", "Badr-Eddine", "Badr Eddine"),
    NM("جلال", 40, NULL, "Jalal"),
    NM("حسين", 40, NULL, "Hussein", "Houcine", "Hocine"),
    NM("سامي", 40, NULL, "Sami"),
    NM("شعيب", 40, NULL, "Chouaib", "Choaib", "Chuaib"),
    NM("عمران", 40, NULL, "Imrane", "Omrane", "Imran"),
    NM("قاسم", 40, NULL, "Kacem", "Kassem", "Qassim"),
    NM("مالك", 40, NULL, "Malek", "Malik"),
    NM("محمود", 40, NULL, "Mahmoud", "Mahmud"),
    NM("نزار", 40, NULL, "Nizar"),
    NM("نوفل", 40, NULL, "Naoufal", "Nawfal", "Naufal"),
    NM("حاتم", 40, NULL, "Hatim", "Hatem"),
    NM("موسى", 40, NULL, "Moussa", "Mousa"),
    NM("أبو بكر", 40, NULL, "Boubker", "Aboubakr", "Aboubakar", "Boubakar"),
    NM("ربيع", 40, NULL, "Rabie", "Rabii", "Rabia"),
    NM("منصور", 40, NULL, "Mansour", "Mansur"),
    NM("البشير", 30, NULL, "Bachir", "Lbachir", "El Bachir"),
    NM("الغالي", 30, NULL, "Ghali", "El Ghali"),
    NM("الصديق", 30, NULL, "Seddik", "Essadik", "Sadik"),
    NM("الميلودي", 30, NULL, "Miloudi", "El Miloudi"),
    NM("العياشي", 30, NULL, "Ayachi", "Layachi", "El Ayachi"),
    NM("بوعزة", 30, NULL, "Bouazza"),
    NM("الشرقي", 30, NULL, "Cherki", "Cherqui", "Charki"),
    NM("التهامي", 30, NULL, "Touhami", "Thami", "Ettouhami"),
    NM("عبد الرؤوف", 30, NULL, "Abderraouf", "Abdelraouf"),
    NM("عبد الخالق", 30, NULL, "Abdelkhalek", "Abdelkhaleq"),
    NM("عبد الناصر", 30, NULL, "Abdennasser", "Abdenasser"),
    NM("عبد الحي", 30, NULL, "Abdelhay", "Abdelhai"),
    NM("محمد رضا", 30, "Reda", "Mohamed Reda", "Mohammed Reda"),
    NM("سيدي محمد", 30, NULL, "Sidi Mohamed", "Sidi Mohammed"),
    NM("شكيب", 30, NULL, "Chakib"),
    NM("شفيق", 30, NULL, "Chafik", "Chafiq"),
    NM("نعيم", 30, NULL, "Naim", "Naïm"),
    NM("سلمان", 30, NULL, "Salmane", "Salman"),
    NM("صابر", 30, NULL, "Saber", "Sabir"),
    NM("فهد", 30, NULL, "Fahd", "Fahed"),
    NM("ماجد", 30, NULL, "Majid"),
    NM("منصف", 30, NULL, "Moncef", "Monssef", "Monsef"),
    NM("رامي", 30, NULL, "Rami"),
    NM("صالح", 30, NULL, "Saleh", "Salh"),
    NM("علال", 30, NULL, "Allal", "Alal"),
    NM("يعقوب", 30, NULL, "Yacoub", "Yaakoub", "Yakoub", "Yaqoub"),
    NM("عيسى", 30, NULL, "Aissa", "Issa"),
    NM("مسعود", 30, NULL, "Messaoud", "Massoud", "Masoud"),
    NM("ميمون", 30, NULL, "Mimoun", "Maimoun"),
    NM("ناصر", 30, NULL, "Nasser", "Naser"),
    NM("هيثم", 30, NULL, "Haitam", "Haytham", "Haitham"),
    NM("أنيس", 30, NULL, "Anis", "Aniss"),
    NM("عبد الرفيع", 25, NULL, "Abderrafie", "Abderrafi"),
    NM("عبد المولى", 25, NULL, "Abdelmoula"),
    NM("محمد ياسين", 25, NULL, "Mohamed Yassine", "Mohammed Yassine"),
    NM("محمد علي", 25, NULL, "Mohamed Ali", "Mohammed Ali"),
    NM("محمد الأمين", 20, NULL, "Mohamed Lamine", "Mohamed El Amine"),
    NM("محمد المهدي", 20, NULL, "Mohamed El Mehdi", "Mohammed El Mehdi"),
    NM("عبد الباقي", 20, NULL, "Abdelbaki", "Abdelbaqi"),
    NM("عبد العظيم", 20, NULL, "Abdeladim", "Abdelazim"),
    NM("عبد الباسط", 20, NULL, "Abdelbasset", "Abdelbasit"),
    NM("سعد الدين", 20, NULL, "Saadeddine", "Saad-Eddine"),
    NM("زين العابدين", 20, NULL, "Zine El Abidine", "Zinelabidine"),
    NM("مولاي علي", 20, NULL, "Moulay Ali", "My Ali"),
    NM("مولاي رشيد", 20, NULL, "Moulay Rachid", "My Rachid"),
    NM("مولاي إدريس", 20, NULL, "Moulay Driss", "Moulay Idriss"),
    NM("مولاي عبد الله", 20, NULL, "Moulay Abdellah", "Moulay Abdallah"),
    NM("مولاي أحمد", 20, NULL, "Moulay Ahmed", "My Ahmed"),
    NM("المكي", 20, NULL, "Mekki", "El Mekki"),
    NM("الصغير", 15, NULL, "Sghir", "Esseghir"),
    NM("غسان", 20, NULL, "Ghassane", "Ghassan"),
    NM("فاروق", 20, NULL, "Farouk", "Farouq"),
    NM("هارون", 20, NULL, "Haroun", "Haroune"),
    NM("رحال", 20, NULL, "Rahal", "Rahhal"),
    NM("عمار", 20, NULL, "Ammar", "Amar"),
    NM("قدور", 20, NULL, "Kaddour", "Qaddour"),
    NM("محجوب", 20, NULL, "Mahjoub"),
    NM("داود", 20, NULL, "Daoud", "Dawoud"),
    NM("حمو", 20, NULL, "Hammou", "Hamou"),
    NM("موحا", 20, NULL, "Moha", "Mouha"),
    NM("الزبير", 20, NULL, "Zoubir", "Zoubair", "Zubair"),
    NM("إسحاق", 20, NULL, "Ishak", "Ishaq"),
    NM("هاني", 20, NULL, "Hani"),
    NM("وديع", 20, NULL, "Wadie", "Ouadie", "Wadii"),
    NM("جعفر", 20, NULL, "Jaafar", "Jafar"),
    NM("رفيق", 20, NULL, "Rafik", "Rafiq"),
    NM("شريف", 20, NULL, "Cherif", "Charif"),
    NM("ضياء", 20, NULL, "Diae", "Diaa", "Dia"),
    NM("غيث", 20, NULL, "Ghait", "Ghaith", "Ghayth"),
    NM("لقمان", 20, NULL, "Lokmane", "Loqmane", "Luqman"),
    NM("يزيد", 20, NULL, "Yazid"),
    NM("نعمان", 20, NULL, "Nouamane", "Noamane", "Nouman"),
    NM("شمس الدين", 20, NULL, "Chamseddine", "Chems-Eddine", "Chemseddine"),
    NM("سيف الدين", 20, NULL, "Saifeddine", "Seif-Eddine", "Seifeddine"),
    NM("تاج الدين", 15, NULL, "Tajeddine", "Taj-Eddine"),
    NM("إيدر", 15, NULL, "Idir", "Ider"),
    NM("ماسين", 15, NULL, "Massine", "Massin"),
    NM("يوبا", 10, NULL, "Youba", "Juba"),
    NM("أكسيل", 10, NULL, "Aksil", "Axil"),
    NM("الوافي", 10, NULL, "Ouafi", "El Ouafi"),
};

/* Women's given names. */
static const struct gen_name gen_female[] = {
    NM("فاطمة", 900, "Fatna", "Fatima", "Fatma", "Fatim", "Fadma"),
    NM("خديجة", 360, "Khaddouj", "Khadija", "Khadidja", "Khadeeja"),
    NM("فاطمة الزهراء", 300, "Zahra", "Fatima Zahra", "Fatima-Zahra", "Fatimazahra",
       "Fatima Ezzahra", "Fatim Zahra"),
    NM("مريم", 300, "Mimi", "Meryem", "Maryam", "Mariam", "Meriem"),
    NM("عائشة", 260, "Aichoucha", "Aicha", "Aïcha", "Aisha", "Aïsha"),
    NM("زينب", 250, NULL, "Zineb", "Zaynab", "Zeinab"),
    NM("إيمان", 200, NULL, "Imane", "Iman", "Imene"),
    NM("نعيمة", 180, NULL, "Naima", "Naïma"),
    NM("أمينة", 180, "Mina", "Amina"),
    NM("مليكة", 180, NULL, "Malika"),
    NM("نادية", 180, NULL, "Nadia"),
    NM("سناء", 180, NULL, "Sanaa", "Sana", "Sanae"),
    NM("أسماء", 180, NULL, "Asmae", "Asmaa", "Asma"),
    NM("سعاد", 160, NULL, "Souad", "Soad"),
    NM("سلمى", 160, NULL, "Salma", "Selma"),
    NM("حياة", 150, NULL, "Hayat", "Hayate"),
    NM("رشيدة", 150, NULL, "Rachida", "Rashida"),
    NM("سميرة", 150, NULL, "Samira"),
    NM("هدى", 150, NULL, "Houda", "Hoda", "Huda"),
    NM("سارة", 150, NULL, "Sara", "Sarah"),
    NM("كريمة", 140, NULL, "Karima"),
    NM("لطيفة", 130, NULL, "Latifa", "Latefa"),
    NM("حليمة", 130, "Hlima", "Halima"),
    NM("وفاء", 130, NULL, "Wafae", "Wafaa", "Wafa", "Ouafae"),
    NM("ليلى", 130, NULL, "Leila", "Laila", "Layla", "Leïla"),
    NM("هاجر", 130, NULL, "Hajar", "Hajare", "Hagar"),
    NM("شيماء", 130, NULL, "Chaimae", "Chaimaa", "Chaima", "Shaimaa"),
    NM("بشرى", 130, NULL, "Bouchra", "Boushra", "Bushra"),
    NM("الزهرة", 120, NULL, "Zahra", "Zohra", "Ezzahra", "Zahrae"),
    NM("هند", 120, NULL, "Hind", "Hend"),
    NM("غزلان", 120, NULL, "Ghizlane", "Ghizlan", "Ghislane"),
    NM("كوثر", 120, NULL, "Kaoutar", "Kawtar", "Kaouthar"),
    NM("ياسمين", 120, NULL, "Yasmine", "Yasmina", "Jasmine"),
    NM("نجاة", 110, NULL, "Najat", "Najate"),
    NM("سهام", 110, NULL, "Siham", "Sihame"),
    NM("نوال", 110, NULL, "Naoual", "Nawal"),
    NM("أميمة", 110, NULL, "Oumaima", "Oumayma", "Umaima"),
    NM("سكينة", 110, NULL, "Soukaina", "Sokaina", "Soukayna", "Sukaina"),
    NM("فتيحة", 110, NULL, "Fatiha"),
    NM("حنان", 110, NULL, "Hanane", "Hanan"),
    NM("جميلة", 100, NULL, "Jamila", "Djamila"),
    NM("حسناء", 100, NULL, "Hasna", "Hasnaa", "Hasnae"),
    NM("ثورية", 100, NULL, "Touria", "Thouria", "Touriya"),
    NM("رقية", 100, NULL, "Rkia", "Rokaya", "Roqaya", "Rokia"),
    NM("نسرين", 100, NULL, "Nisrine", "Nesrine", "Nissrine"),
    NM("دعاء", 100, NULL, "Douae", "Doaa", "Douaa"),
    NM("إكرام", 100, NULL, "Ikram", "Ikrame"),
    NM("منال", 100, NULL, "Manal", "Manale"),
    NM("لبنى", 100, NULL, "Loubna", "Lubna"),
    NM("خولة", 100, NULL, "Khaoula", "Khawla", "Khaula"),
    NM("صفاء", 100, NULL, "Safae", "Safaa", "Safa"),
    NM("آية", 100, NULL, "Aya", "Ayah"),
    NM("مينة", 90, NULL, "Mina"),
    NM("فدوى", 90, NULL, "Fadoua", "Fadwa"),
    NM("حفصة", 90, NULL, "Hafsa", "Hafssa"),
    NM("رجاء", 90, NULL, "Rajae", "Rajaa", "Raja"),
    NM("فوزية", 90, NULL, "Fouzia", "Fawzia"),
    NM("لمياء", 90, NULL, "Lamiae", "Lamia", "Lamyaa"),
    NM("يسرى", 90, NULL, "Yousra", "Yosra", "Yusra"),
    NM("مروة", 90, NULL, "Marwa", "Maroua"),
    NM("نهيلة", 90, NULL, "Nouhaila", "Nouhayla", "Nohaila"),
    NM("سمية", 90, NULL, "Soumia", "Soumaya", "Sumaya"),
    NM("كنزة", 90, NULL, "Kenza"),
    NM("السعدية", 80, NULL, "Saadia", "Essaadia", "Saâdia"),
    NM("نزهة", 80, NULL, "Nezha", "Nouzha", "Nazha"),
    NM("أمل", 80, NULL, "Amal", "Amale"),
    NM("هبة", 80, NULL, "Hiba", "Heba"),
    NM("إلهام", 80, NULL, "Ilham", "Ilhame"),
    NM("سعيدة", 80, NULL, "Saida", "Saïda"),
    NM("غيثة", 80, NULL, "Ghita"),
    NM("هناء", 80, NULL, "Hanaa", "Hanae", "Hana"),
    NM("ملاك", 80, NULL, "Malak", "Malake"),
    NM("يمينة", 70, NULL, "Yamina", "Yamna"),
    NM("ماجدة", 70, NULL, "Majda", "Majida"),
    NM("مونية", 70, NULL, "Mounia", "Mounya"),
    NM("نورة", 70, NULL, "Noura", "Nora"),
    NM("نور", 70, NULL, "Nour", "Nor"),
    NM("وئام", 70, NULL, "Wiam", "Ouiam", "Wiame"),
    NM("دنيا", 70, NULL, "Dounia", "Donia", "Dunia"),
    NM("منى", 70, NULL, "Mouna", "Mona", "Muna"),
    NM("إيناس", 70, NULL, "Ines", "Inas", "Iness"),
    NM("إسراء", 70, NULL, "Israe", "Israa", "Isra"),
    NM("وصال", 70, NULL, "Wissal", "Ouissal", "Wisal"),
    NM("البتول", 60, NULL, "Batoul", "Lbatoul", "Batool"),
    NM("عزيزة", 60, NULL, "Aziza"),
    NM("كلثوم", 60, NULL, "Keltoum", "Kaltoum", "Kaltoume"),
    NM("نور الهدى", 60, NULL, "Nour El Houda", "Nourelhouda", "Nour-Elhouda"),
    NM("رانيا", 60, NULL, "Rania", "Ranya"),
    NM("ريم", 60, NULL, "Rim", "Reem"),
    NM("ربيعة", 60, NULL, "Rabia", "Rabiaa"),
    NM("سلوى", 60, NULL, "Salwa", "Saloua"),
    NM("وداد", 60, NULL, "Widad", "Ouidad", "Wedad"),
    NM("بهيجة", 50, NULL, "Bahija", "Bahiya"),
    NM("زكية", 50, NULL, "Zakia", "Zakiya"),
    NM("صباح", 50, NULL, "Sabah"),
    NM("فريدة", 50, NULL, "Farida"),
    NM("نبيلة", 50, NULL, "Nabila"),
    NM("حورية", 50, NULL, "Houria", "Hourya"),
    NM("بسمة", 50, NULL, "Basma", "Bassma"),
    NM("عفاف", 50, NULL, "Afaf", "Afafe"),
    NM("فرح", 50, NULL, "Farah"),
    NM("نجوى", 50, NULL, "Najwa", "Najoua"),
    NM("إحسان", 50, NULL, "Ihsane", "Ihssane", "Ihsan"),
    NM("جيهان", 50, NULL, "Jihane", "Jihan"),
    NM("جليلة", 40, NULL, "Jalila"),
    NM("شامة", 40, NULL, "Chama", "Chamma"),
    NM("ضحى", 40, NULL, "Doha", "Douha"),
    NM("عتيقة", 40, NULL, "Atika", "Atiqa"),
    NM("عواطف", 40, NULL, "Aouatif", "Awatif"),
    NM("يطو", 40, NULL, "Itto", "Ito", "Yetto"),
    NM("فضيلة", 40, NULL, "Fadila", "Fadela"),
    NM("رحمة", 40, NULL, "Rahma"),
    NM("مباركة", 40, NULL, "Mbarka", "M'barka", "Mebarka"),
    NM("زهور", 40, NULL, "Zhour", "Zouhour"),
    NM("آسية", 40, NULL, "Assia", "Asiya"),
    NM("رحاب", 40, NULL, "Rihab", "Rehab"),
    NM("صفية", 40, NULL, "Safia", "Safiya"),
    NM("لينا", 40, NULL, "Lina"),
    NM("نسيمة", 40, NULL, "Nassima", "Nasima"),
    NM("تودة", 30, NULL, "Touda", "Tuda"),
    NM("حادة", 30, NULL, "Hadda"),
    NM("جنات", 30, NULL, "Jannat", "Jannate"),
    NM("زبيدة", 30, NULL, "Zoubida", "Zubida"),
    NM("دليلة", 30, NULL, "Dalila"),
    NM("أنيسة", 30, NULL, "Anissa", "Anisa"),
    NM("حبيبة", 30, NULL, "Habiba"),
    NM("سهى", 30, NULL, "Souha", "Suha"),
    NM("إيزة", 20, NULL, "Izza"),
    NM("تيزيري", 20, NULL, "Tiziri", "Thiziri"),
    NM("ذهبية", 20, NULL, "Dahbia", "Dehbia"),
    NM("غادة", 20, NULL, "Ghada"),
    NM("يمنى", 20, NULL, "Youmna", "Yumna"),
    NM("قمر", 20, NULL, "Kamar", "Qamar"),
    NM("تيليلا", 15, NULL, "Tilila"),
};

/* Family names. */
static const struct gen_name gen_family[] = {
    NM("العلوي", 150, NULL, "Alaoui", "El Alaoui", "Elalaoui"),
    NM("الإدريسي", 140, NULL, "Idrissi", "El Idrissi", "Drissi", "Elidrissi"),
    NM("العمراني", 90, NULL, "Amrani", "El Amrani", "Lamrani"),
    NM("بناني", 80, NULL, "Bennani", "Benani"),
    NM("الحسني", 80, NULL, "Hassani", "El Hassani", "Lahsini"),
    NM("العلمي", 80, NULL, "Alami", "El Alami", "Lalami"),
    NM("الفاسي", 70, NULL, "El Fassi", "Fassi", "Elfassi"),
    NM("التازي", 70, NULL, "Tazi", "Ettazi", "Et-Tazi"),
    NM("الوزاني", 70, NULL, "Ouazzani", "El Ouazzani", "Wazzani", "Ouazani"),
    NM("المنصوري", 70, NULL, "Mansouri", "El Mansouri", "Elmansouri"),
    NM("الفيلالي", 70, NULL, "Filali", "El Filali", "Elfilali"),
    NM("بنجلون", 60, NULL, "Benjelloun", "Ben Jelloun", "Benjeloun"),
    NM("الطاهري", 60, NULL, "Tahiri", "Taheri", "Ettahiri"),
    NM("الشرقاوي", 60, NULL, "Cherkaoui", "Cherqaoui", "Charkaoui"),
    NM("العمري", 60, NULL, "Omari", "El Omari", "Elomari"),
    NM("بنعلي", 60, NULL, "Benali", "Ben Ali"),
    NM("السعيدي", 60, NULL, "Saidi", "Essaidi", "Es-Saidi"),
    NM("الشرايبي", 50, NULL, "Chraibi", "Cheraibi", "Chraïbi"),
    NM("برادة", 50, NULL, "Berrada", "Berada"),
    NM("الأنصاري", 50, NULL, "Ansari", "El Ansari", "Lansari"),
    NM("الحسيني", 50, NULL, "Houssaini", "El Housseini", "Husseini"),
    NM("الزياني", 50, NULL, "Ziani", "Zayani", "Ezziani"),
    NM("السوسي", 50, NULL, "Soussi", "Essoussi", "Es-Soussi"),
    NM("البقالي", 50, NULL, "Bakkali", "El Bakkali", "Baqqali"),
    NM("العثماني", 50, NULL, "Othmani", "El Othmani", "Otmani"),
    NM("بنعبد الله", 50, NULL, "Benabdellah", "Ben Abdellah"),
    NM("بلحاج", 50, NULL, "Belhaj", "Belhadj"),
    NM("الدكالي", 50, NULL, "Doukkali", "Dokkali", "Eddoukkali"),
    NM("الناصري", 50, NULL, "Naciri", "Nasri", "En-Naciri"),
    NM("العراقي", 50, NULL, "Iraki", "El Iraki", "Laraki"),
    NM("العزوزي", 50, NULL, "Azzouzi", "El Azzouzi"),
    NM("القادري", 50, NULL, "Kadiri", "Kadri", "El Kadiri"),
    NM("المحمدي", 50, NULL, "Mohammadi", "Mohamadi", "El Mohammadi"),
    NM("الموساوي", 50, NULL, "Moussaoui", "El Moussaoui"),
    NM("الهاشمي", 50, NULL, "Hachimi", "El Hachimi", "Hachmi"),
    NM("اليوسفي", 50, NULL, "Youssfi", "El Youssfi", "Yousfi"),
    NM("الإسماعيلي", 50, NULL, "Ismaili", "El Ismaili", "Smaili"),
    NM("حجي", 50, NULL, "Hajji", "Haji"),
    NM("لحلو", 50, NULL, "Lahlou"),
    NM("الكتاني", 40, NULL, "Kettani", "El Kettani", "Kittani"),
    NM("بنكيران", 40, NULL, "Benkirane", "Benkiran", "Ben Kirane"),
    NM("الصنهاجي", 40, NULL, "Sanhaji", "Senhaji", "Essanhaji"),
    NM("الرحماني", 40, NULL, "Rahmani", "Errahmani", "Er-Rahmani"),
    NM("الغزواني", 40, NULL, "Ghazouani", "El Ghazouani"),
    NM("بنموسى", 40, NULL, "Benmoussa", "Ben Moussa"),
    NM("بنسعيد", 40, NULL, "Bensaid", "Ben Said"),
    NM("بنعمر", 40, NULL, "Benomar", "Ben Omar"),
    NM("بنبراهيم", 40, NULL, "Benbrahim", "Ben Brahim"),
    NM("بنشقرون", 40, NULL, "Benchekroun", "Ben Chekroun"),
    NM("بنعيسى", 40, NULL, "Benaissa", "Ben Aissa"),
    NM("بوزيد", 40, NULL, "Bouzid"),
    NM("الشاوي", 40, NULL, "Chaoui", "Echchaoui"),
    NM("الريفي", 40, NULL, "Rifi", "Errifi", "Er-Rifi"),
    NM("الزرهوني", 40, NULL, "Zerhouni", "Zarhouni"),
    NM("الصحراوي", 40, NULL, "Sahraoui", "Essahraoui"),
    NM("الطالبي", 40, NULL, "Talbi", "Ettalbi"),
    NM("الخطابي", 40, NULL, "Khattabi", "El Khattabi", "Khatabi"),
    NM("الراشدي", 40, NULL, "Rachidi", "Er-Rachidi", "Rachdi"),
    NM("السلاوي", 40, NULL, "Slaoui", "Es-Slaoui"),
    NM("الصالحي", 40, NULL, "Salhi", "Essalhi"),
    NM("الصديقي", 40, NULL, "Seddiki", "Essediki", "Sedki"),
    NM("الطيبي", 40, NULL, "Tayebi", "Taibi"),
    NM("العباسي", 40, NULL, "Abbassi", "El Abbassi", "Abassi"),
    NM("القاسمي", 40, NULL, "Kasmi", "Qasmi", "El Kasmi"),
    NM("الكريمي", 40, NULL, "Karimi", "El Karimi"),
    NM("المختاري", 40, NULL, "Mokhtari", "El Mokhtari"),
    NM("المرابط", 40, NULL, "Mrabet", "El Mrabet", "Merabet"),
    NM("المسعودي", 40, NULL, "Messaoudi", "El Messaoudi"),
    NM("البوزيدي", 40, NULL, "Bouzidi", "El Bouzidi"),
    NM("الخالدي", 40, NULL, "Khalidi", "El Khalidi"),
    NM("الودغيري", 40, NULL, "Oudghiri", "El Oudghiri", "Ouedghiri"),
    NM("اليعقوبي", 40, NULL, "Yacoubi", "Yaakoubi", "El Yacoubi"),
    NM("حداد", 40, NULL, "Haddad", "Hadad"),
    NM("الهلالي", 40, NULL, "Hilali", "El Hilali"),
    NM("الصقلي", 30, NULL, "Sqalli", "Skalli", "Sekkali"),
    NM("المريني", 30, NULL, "Merini", "El Merini", "Marini"),
    NM("بنيوسف", 30, NULL, "Benyoussef", "Ben Youssef"),
    NM("بنحمو", 30, NULL, "Benhammou", "Ben Hammou"),
    NM("بنسليمان", 30, NULL, "Benslimane", "Ben Slimane"),
    NM("بوزيان", 30, NULL, "Bouziane", "Bouzian"),
    NM("بوسعيد", 30, NULL, "Boussaid", "Bousaid"),
    NM("المراكشي", 30, NULL, "Marrakchi", "El Marrakchi"),
    NM("الجبلي", 30, NULL, "Jebli", "El Jebli", "Jabli"),
    NM("الغربي", 30, NULL, "Gharbi", "El Gharbi"),
    NM("الكنوني", 30, NULL, "Guennouni", "Kennouni", "El Guennouni"),
    NM("الهواري", 30, NULL, "Houari", "El Houari", "Lhouari"),
    NM("الجزولي", 30, NULL, "Jazouli", "Guezouli", "El Jazouli"),
    NM("الزموري", 30, NULL, "Zemmouri", "Zammouri"),
    NM("الأزرق", 30, NULL, "Lazrak", "El Azrak"),
    NM("السباعي", 30, NULL, "Sebbai", "Sbai", "Sebai"),
    NM("الفاضلي", 30, NULL, "Fadili", "El Fadili"),
    NM("المنوني", 30, NULL, "Menouni", "El Manouni", "Mennouni"),
    NM("النجاري", 30, NULL, "Nejjari", "Najjari"),
    NM("البركاني", 30, NULL, "Berkani", "El Berkani"),
    NM("الجراري", 30, NULL, "Jirari", "Jerrari", "El Jirari"),
    NM("الحمداوي", 30, NULL, "Hamdaoui", "El Hamdaoui"),
    NM("الراضي", 30, NULL, "Radi", "Erradi", "Errady"),
    NM("القباج", 30, NULL, "Kabbaj", "Kebbaj", "Qabbaj"),
    NM("المحمودي", 30, NULL, "Mahmoudi", "El Mahmoudi"),
    NM("الناجي", 30, NULL, "Naji", "En-Naji"),
    NM("آيت علي", 30, NULL, "Ait Ali", "Aït Ali"),
    NM("زروال", 30, NULL, "Zeroual"),
    NM("العماري", 30, NULL, "Ammari", "El Ammari"),
    NM("غانم", 30, NULL, "Ghanem", "Ghanim"),
    NM("منصور", 30, NULL, "Mansour"),
    NM("يحياوي", 30, NULL, "Yahyaoui", "Yahiaoui"),
    NM("بنونة", 30, NULL, "Bennouna", "Benouna"),
    NM("العيادي", 30, NULL, "Ayadi", "El Ayadi"),
    NM("العياشي", 30, NULL, "Ayachi", "El Ayachi"),
    NM("الغازي", 30, NULL, "Ghazi", "El Ghazi"),
    NM("النعيمي", 30, NULL, "Naimi", "En-Naimi"),
    NM("الخلفي", 30, NULL, "Khalfi", "El Khalfi"),
    NM("الذهبي", 30, NULL, "Dahbi", "Eddahbi"),
    NM("العبدلاوي", 30, NULL, "Abdellaoui", "El Abdellaoui"),
    NM("بلعربي", 30, NULL, "Belarbi", "Bel Arbi"),
    NM("بلغيتي", 30, NULL, "Belghiti"),
    NM("الخمليشي", 30, NULL, "Khamlichi", "El Khamlichi"),
    NM("الركراكي", 30, NULL, "Regragui", "Rgragui", "Er-Regragui"),
    NM("السرغيني", 30, NULL, "Serghini", "Sarghini"),
    NM("الغرباوي", 30, NULL, "Gharbaoui", "El Gharbaoui"),
    NM("المكناسي", 30, NULL, "Meknassi", "El Meknassi"),
    NM("الشيظمي", 30, NULL, "Chiadmi", "Chyadmi"),
    NM("الجابري", 30, NULL, "Jabri", "El Jabri"),
    NM("الحمري", 30, NULL, "Hamri", "El Hamri"),
    NM("الخطيب", 30, NULL, "Khatib", "El Khatib"),
    NM("العيساوي", 30, NULL, "Aissaoui", "El Aissaoui"),
    NM("الإبراهيمي", 30, NULL, "Brahimi", "El Brahimi"),
    NM("الريسوني", 30, NULL, "Raissouni", "Raisouni"),
    NM("السعدي", 30, NULL, "Saadi", "Essaadi"),
    NM("البوخاري", 30, NULL, "Boukhari", "El Boukhari"),
    NM("المدني", 30, NULL, "Madani", "El Madani"),
    NM("الزروالي", 30, NULL, "Zerouali", "Ezzerouali"),
    NM("الحمادي", 30, NULL, "Hammadi", "El Hammadi"),
    NM("البوشيخي", 30, NULL, "Bouchikhi", "El Bouchikhi"),
    NM("آيت الطالب", 20, NULL, "Ait Taleb", "Aït Taleb"),
    NM("آيت سعيد", 20, NULL, "Ait Said", "Aït Said"),
    NM("آيت إبراهيم", 20, NULL, "Ait Brahim", "Aït Brahim"),
    NM("آيت الحاج", 20, NULL, "Ait Lhaj", "Aït El Haj"),
    NM("آيت لحسن", 20, NULL, "Ait Lahcen", "Aït Lahcen"),
    NM("آيت أحمد", 15, NULL, "Ait Ahmed", "Aït Ahmed"),
    NM("آيت عمر", 15, NULL, "Ait Omar", "Aït Omar"),
    NM("آيت موسى", 15, NULL, "Ait Moussa", "Aït Moussa"),
    NM("آيت بلعيد", 15, NULL, "Ait Belaid", "Aït Belaïd"),
    NM("آيت إيدر", 15, NULL, "Ait Idir", "Aït Idder"),
    NM("بلقاسم", 20, NULL, "Belkacem", "Belqasem"),
    NM("بوعزاوي", 20, NULL, "Bouazzaoui", "Bouazaoui"),
    NM("بوطيب", 20, NULL, "Boutaib", "Boutayeb"),
    NM("بوخريص", 20, NULL, "Boukhriss", "Boukhris"),
    NM("الرباطي", 20, NULL, "Rbati", "Errbati"),
    NM("الشريف", 20, NULL, "Cherif", "Echcherif"),
    NM("الدرقاوي", 20, NULL, "Derkaoui", "Darkaoui"),
    NM("الحجوي", 20, NULL, "Hajoui", "El Hajjoui"),
    NM("الأزهري", 20, NULL, "Azhari", "El Azhari"),
    NM("الزهراوي", 20, NULL, "Zahraoui", "Zehraoui"),
    NM("الشامي", 20, NULL, "Chami", "Echchami"),
    NM("العطار", 20, NULL, "Attar", "El Attar"),
    NM("القرشي", 20, NULL, "Korchi", "Kourchi"),
    NM("المكاوي", 20, NULL, "Mekkaoui", "El Mekkaoui"),
    NM("الوافي", 20, NULL, "Ouafi", "El Ouafi"),
    NM("البيضاوي", 20, NULL, "Bidaoui", "El Bidaoui"),
    NM("الزين", 20, NULL, "Zine", "Ezzine"),
    NM("الشافعي", 20, NULL, "Chafii", "Chafai", "Echchafii"),
    NM("الصافي", 20, NULL, "Safi", "Essafi"),
    NM("الغماري", 20, NULL, "Ghomari", "Ghmari"),
    NM("المغربي", 20, NULL, "Maghrebi", "El Maghribi"),
    NM("أمزيان", 20, NULL, "Amziane", "Amezian"),
    NM("أمغار", 20, NULL, "Amghar"),
    NM("أبو زيد", 20, NULL, "Abouzid", "Abou Zaid"),
    NM("حماني", 20, NULL, "Hammani", "Hamani"),
    NM("شهبون", 20, NULL, "Chahboun"),
    NM("الفاتحي", 20, NULL, "Fathi", "Fatihi"),
    NM("هلال", 20, NULL, "Hilal"),
    NM("وهبي", 20, NULL, "Ouahbi", "Wahbi"),
    NM("بوعبيد", 20, NULL, "Bouabid"),
    NM("بلخياط", 20, NULL, "Belkhayat"),
    NM("الزاكي", 20, NULL, "Zaki", "Ezzaki"),
    NM("الشيخي", 20, NULL, "Chikhi", "Echikhi"),
    NM("الحياني", 20, NULL, "Hayani", "El Hayani"),
    NM("العسري", 20, NULL, "Asri", "El Asri"),
    NM("البكاري", 20, NULL, "Bakkari", "El Bakkari"),
    NM("بنحدو", 20, NULL, "Benhaddou", "Ben Haddou"),
    NM("بناصر", 20, NULL, "Bennasser", "Ben Nasser"),
    NM("بنطاهر", 20, NULL, "Bentaher", "Ben Taher"),
    NM("بن الشيخ", 20, NULL, "Bencheikh", "Ben Cheikh"),
    NM("بنداود", 20, NULL, "Bendaoud", "Ben Daoud"),
    NM("بلفقيه", 20, NULL, "Belfkih", "Belfakih"),
    NM("بوطالب", 20, NULL, "Boutaleb"),
    NM("الحراق", 20, NULL, "Harrak", "El Harrak"),
    NM("الحسناوي", 20, NULL, "Hasnaoui", "El Hasnaoui"),
    NM("الرايس", 20, NULL, "Rais", "Errais"),
    NM("السملالي", 20, NULL, "Semlali", "Smlali"),
    NM("الفلاحي", 20, NULL, "Fellahi", "El Fellahi"),
    NM("القصري", 20, NULL, "Kasri", "El Kasri"),
    NM("المعروفي", 20, NULL, "Maaroufi", "Marroufi"),
    NM("المؤذن", 20, NULL, "Moudden", "El Moudden"),
    NM("النجار", 20, NULL, "Najjar", "Nejjar"),
    NM("الوردي", 20, NULL, "Ouardi", "El Ouardi", "Wardi"),
    NM("اليزيدي", 20, NULL, "Yazidi", "El Yazidi"),
    NM("بلحسن", 20, NULL, "Belhassan", "Bel Hassan"),
    NM("الباز", 20, NULL, "Baz", "El Baz"),
    NM("البصري", 20, NULL, "Basri", "El Basri"),
    NM("التهامي", 20, NULL, "Touhami", "Ettouhami"),
    NM("الجوهري", 20, NULL, "Jaouhari", "Jouhari"),
    NM("الدباغ", 20, NULL, "Debbagh", "Dabbagh"),
    NM("الزيتوني", 20, NULL, "Zitouni", "Ez-Zitouni"),
    NM("السقاط", 20, NULL, "Sekkat", "Saqqat"),
    NM("العبادي", 20, NULL, "Abadi", "El Abadi", "Labadi"),
    NM("الفاطمي", 20, NULL, "Fatmi", "El Fatmi"),
    NM("المسفيوي", 20, NULL, "Mesfioui", "El Mesfioui"),
    NM("الوكيلي", 20, NULL, "Oukili", "El Oukili"),
    NM("بن الصديق", 20, NULL, "Benseddik", "Ben Seddik"),
    NM("بنمنصور", 20, NULL, "Benmansour", "Ben Mansour"),
    NM("الدحماني", 20, NULL, "Dahmani", "Eddahmani"),
    NM("شكري", 20, NULL, "Chokri", "Choukri"),
    NM("عبو", 20, NULL, "Abbou"),
    NM("عياد", 20, NULL, "Ayad", "Ayyad"),
    NM("القدوري", 20, NULL, "Kaddouri", "Qaddouri"),
    NM("المباركي", 20, NULL, "Mbarki", "Moubaraki"),
    NM("المجدوبي", 20, NULL, "Mejdoubi", "Majdoubi"),
    NM("الخليفي", 20, NULL, "Khalifi", "El Khalifi"),
    NM("الزاهيدي", 20, NULL, "Zahidi", "Ez-Zahidi"),
    NM("الشرادي", 20, NULL, "Cherradi", "Charradi"),
    NM("النوري", 20, NULL, "Nouri", "En-Nouri"),
    NM("الوهابي", 20, NULL, "Ouahabi", "Wahabi", "El Ouahabi"),
    NM("التطواني", 20, NULL, "Tetouani", "Ettetouani"),
    NM("الخياطي", 20, NULL, "Khiati", "El Khayati"),
    NM("الوالي", 20, NULL, "Ouali", "El Ouali"),
    NM("الحمدوشي", 20, NULL, "Hamdouchi", "El Hamdouchi"),
    NM("الجعفري", 20, NULL, "Jaafari", "El Jaafari"),
    NM("الفكيكي", 20, NULL, "Figuigui", "El Figuigui"),
    NM("الرحالي", 20, NULL, "Rahali", "Er-Rahali"),
    NM("بنعبو", 20, NULL, "Benabbou", "Ben Abbou"),
    NM("الأمين", 20, NULL, "Lamine", "El Amine"),
    NM("الصبيحي", 20, NULL, "Sbihi", "Essbihi"),
    NM("الطنجاوي", 20, NULL, "Tanjaoui", "Ettanjaoui"),
    NM("البوعناني", 20, NULL, "Bouanani", "El Bouanani"),
    NM("أفيلال", 20, NULL, "Afilal"),
    NM("السهلي", 20, NULL, "Sahli", "Essahli"),
    NM("الشاذلي", 20, NULL, "Chadli", "Echadli"),
    NM("الحضري", 20, NULL, "Hadri", "El Hadri"),
    NM("الحجاجي", 20, NULL, "Hajjaji", "El Hajjaji"),
    NM("البرنوصي", 20, NULL, "Bernoussi", "El Bernoussi"),
    NM("الركيبي", 20, NULL, "Rguibi", "Erguibi"),
    NM("ماء العينين", 20, NULL, "Maa El Ainine", "Ma El Ainin"),
    NM("الجماني", 20, NULL, "Jamani", "Joumani"),
    NM("العروسي", 20, NULL, "Aroussi", "El Aroussi"),
    NM("ولد الرشيد", 15, NULL, "Ould Errachid", "Ould Rachid"),
    NM("أوسعيد", 15, NULL, "Oussaid", "Ou Said"),
    NM("أوشن", 15, NULL, "Ouchen", "Ouchene"),
    NM("أمزال", 15, NULL, "Amzal"),
    NM("إزم", 15, NULL, "Izem"),
    NM("أوحسين", 15, NULL, "Ouhssine", "Ouhoussine"),
    NM("أمالو", 15, NULL, "Amalou"),
    NM("أبركان", 15, NULL, "Aberkane"),
    NM("أوحمو", 15, NULL, "Ouhammou", "Ou Hammou"),
    NM("بنعزوز", 15, NULL, "Benazzouz", "Ben Azzouz"),
    NM("بنهيمة", 15, NULL, "Benhima", "Ben Hima"),
    NM("بنسودة", 15, NULL, "Bensouda", "Ben Souda"),
    NM("بنيس", 15, NULL, "Bennis", "Benis"),
    NM("بنشمسي", 15, NULL, "Benchemsi", "Ben Chemsi"),
    NM("بنزاكور", 15, NULL, "Benzakour", "Ben Zakour"),
    NM("بنمسعود", 15, NULL, "Benmessaoud", "Ben Messaoud"),
    NM("بنعثمان", 15, NULL, "Benothmane", "Ben Othmane"),
    NM("بنطالب", 15, NULL, "Bentaleb", "Ben Taleb"),
    NM("بنزيان", 15, NULL, "Benziane", "Ben Ziane"),
    NM("بنسالم", 15, NULL, "Bensalem", "Ben Salem"),
    NM("بنهاشم", 15, NULL, "Benhachem", "Ben Hachem"),
    NM("بنعبد الجليل", 15, NULL, "Benabdeljalil", "Ben Abdeljalil"),
    NM("بنحليمة", 15, NULL, "Benhalima", "Ben Halima"),
    NM("السبتي", 15, NULL, "Sebti", "Essebti"),
    NM("المقري", 15, NULL, "Mokri", "El Mokri"),
    NM("الصفريوي", 15, NULL, "Sefrioui", "Essefrioui"),
    NM("عواد", 15, NULL, "Aouad"),
    NM("الكردودي", 15, NULL, "Kerdoudi", "El Kerdoudi"),
    NM("الأندلسي", 15, NULL, "Andaloussi", "El Andaloussi"),
    NM("زنيبر", 15, NULL, "Zniber"),
    NM("الحصار", 15, NULL, "Hassar", "El Hassar"),
    NM("بلافريج", 15, NULL, "Balafrej"),
    NM("الفاسي الفهري", 15, NULL, "Fassi Fihri", "El Fassi Fihri"),
    NM("الطريس", 15, NULL, "Torres", "Ettorres"),
    NM("داود", 15, NULL, "Daoud"),
    NM("الرهوني", 15, NULL, "Rhouni", "Rahouni"),
    NM("العزاوي", 15, NULL, "Azzaoui", "El Azzaoui"),
    NM("الحنفي", 15, NULL, "Hanafi", "El Hanafi"),
    NM("الشريفي", 15, NULL, "Cherifi", "Echcherifi"),
    NM("الجامعي", 15, NULL, "Jamai", "Jamaï"),
    NM("الحنصالي", 15, NULL, "Hansali", "El Hansali"),
    NM("المصمودي", 15, NULL, "Masmoudi", "El Masmoudi"),
    NM("العرائشي", 15, NULL, "Laraichi", "El Araichi"),
    NM("الرزوقي", 15, NULL, "Rezzouki", "Rezouki"),
    NM("شقرون", 15, NULL, "Chekroun", "Chakroun"),
    NM("عسو", 15, NULL, "Assou"),
    NM("عمور", 15, NULL, "Ammour"),
    NM("فرحات", 15, NULL, "Farhat", "Ferhat"),
    NM("مرزوق", 15, NULL, "Marzouk", "Marzouq"),
    NM("مكوار", 15, NULL, "Mekouar", "Mekwar"),
    NM("مزوار", 15, NULL, "Mezouar", "Mezwar"),
    NM("الخراز", 15, NULL, "Kharraz", "El Kharraz"),
    NM("التدلاوي", 15, NULL, "Tadlaoui", "Ettadlaoui"),
    NM("الكبير", 15, NULL, "Kebir", "El Kbir"),
    NM("الصغير", 15, NULL, "Sghir", "Esseghir"),
    NM("دريوش", 15, NULL, "Driouch"),
    NM("أخنوش", 10, NULL, "Akhannouch"),
    NM("أوزين", 10, NULL, "Ouzine"),
    NM("الزرقطوني", 10, NULL, "Zerktouni"),
    NM("إدبراهيم", 10, NULL, "Id Brahim", "Idbrahim"),
};

/* Foreign residents with Latin names only (a few per country). */
struct gen_foreign {
    const char *nat; /* ISO 3166-1 alpha-3 */
    uint16_t w;      /* per thousand foreign persons */
    bool arabic;     /* names drawn from the Moroccan tables */
    const char *const *male, *const *female, *const *family, *const *cities;
    uint8_t nmale, nfemale, nfamily, ncities;
};

static const char *const fr_male[] = {"Jean",      "Pierre",  "Nicolas", "Thomas",   "Julien",
                                      "Alexandre", "Antoine", "Laurent", "Philippe", "Olivier"};
static const char *const fr_female[] = {"Marie",    "Sophie", "Camille", "Julie", "Nathalie",
                                        "Isabelle", "Claire", "Céline",  "Émilie"};
static const char *const fr_family[] = {"Martin",   "Bernard", "Dubois",   "Thomas", "Robert",
                                        "Richard",  "Petit",   "Durand",   "Leroy",  "Moreau",
                                        "Lefebvre", "Garnier", "Fournier", "Girard"};
static const char *const fr_cities[] = {"Paris", "Lyon",     "Marseille",   "Toulouse",
                                        "Lille", "Bordeaux", "Montpellier", "Nice"};
static const char *const be_cities[] = {"Bruxelles", "Anvers", "Liège", "Charleroi"};
static const char *const es_male[] = {"Carlos", "José",   "Antonio",   "Manuel",
                                      "David",  "Javier", "Francisco", "Miguel"};
static const char *const es_female[] = {"María", "Carmen", "Ana", "Laura", "Lucía", "Isabel"};
static const char *const es_family[] = {"García", "Fernández", "González", "Rodríguez",
                                        "López",  "Martínez",  "Sánchez",  "Pérez",
                                        "Gómez",  "Ruiz",      "Moreno",   "Jiménez"};
static const char *const es_cities[] = {"Madrid",    "Barcelone", "Séville", "Malaga",
                                        "Algésiras", "Valence",   "Grenade"};
static const char *const it_male[] = {"Marco", "Luca", "Giuseppe", "Andrea", "Francesco"};
static const char *const it_female[] = {"Giulia", "Francesca", "Chiara", "Sara", "Valentina"};
static const char *const it_family[] = {"Rossi",   "Russo",  "Ferrari", "Esposito",
                                        "Bianchi", "Romano", "Colombo", "Ricci"};
static const char *const it_cities[] = {"Rome", "Milan", "Turin", "Naples", "Gênes"};
static const char *const de_male[] = {"Thomas", "Michael", "Andreas", "Stefan", "Jürgen"};
static const char *const de_female[] = {"Sabine", "Anna", "Petra", "Julia", "Katrin"};
static const char *const de_family[] = {"Müller", "Schmidt", "Schneider", "Fischer",
                                        "Weber",  "Meyer",   "Wagner",    "Becker"};
static const char *const de_cities[] = {"Berlin", "Munich", "Hambourg", "Francfort", "Cologne"};
static const char *const wa_male[] = {"Mamadou", "Moussa", "Ibrahima", "Cheikh", "Abdoulaye",
                                      "Ousmane", "Modou",  "Amadou",   "Seydou", "Bakary"};
static const char *const wa_female[] = {"Fatou", "Aminata", "Awa",      "Mariama",
                                        "Khady", "Ndeye",   "Kadiatou", "Adama"};
static const char *const sn_family[] = {"Diallo", "Ndiaye", "Diop", "Fall", "Sow",
                                        "Sy",     "Gueye",  "Ba",   "Faye", "Sarr"};
static const char *const sn_cities[] = {"Dakar", "Thiès", "Saint-Louis", "Kaolack", "Ziguinchor"};
static const char *const ml_family[] = {"Traoré", "Coulibaly", "Keïta",   "Diarra",
                                        "Konaté", "Touré",     "Sissoko", "Dembélé"};
static const char *const ml_cities[] = {"Bamako", "Kayes", "Ségou", "Sikasso", "Mopti"};
static const char *const ci_family[] = {"Kouassi", "Koné",     "Yao",   "Kouamé",
                                        "Bamba",   "Ouattara", "Konan", "Traoré"};
static const char *const ci_cities[] = {"Abidjan", "Bouaké", "Yamoussoukro", "Daloa"};
static const char *const gn_family[] = {"Camara", "Barry", "Bah", "Sylla", "Soumah", "Condé"};
static const char *const gn_cities[] = {"Conakry", "Kankan", "Labé", "Kindia"};
static const char *const dz_cities[] = {"Oran", "Alger", "Tlemcen", "Constantine",
                                        "Sidi Bel Abbès"};
static const char *const tn_cities[] = {"Tunis", "Sfax", "Sousse", "Bizerte"};
static const char *const sy_cities[] = {"Damas", "Alep", "Homs", "Lattaquié"};
static const char *const mr_cities[] = {"Nouakchott", "Nouadhibou", "Rosso"};

#define FT(a) a, GEN_LEN(a)
#define FOREIGN_LATIN(nat, w, m, f, fam, c)                                                        \
    {                                                                                              \
        nat, w, false, m, f, fam, c, GEN_LEN(m), GEN_LEN(f), GEN_LEN(fam), GEN_LEN(c)              \
    }
#define FOREIGN_ARABIC(nat, w, c)                                                                  \
    {                                                                                              \
        nat, w, true, NULL, NULL, NULL, c, 0, 0, 0, GEN_LEN(c)                                     \
    }

static const struct gen_foreign gen_foreigners[] = {
    FOREIGN_ARABIC("DZA", 180, dz_cities),
    FOREIGN_LATIN("FRA", 180, fr_male, fr_female, fr_family, fr_cities),
    FOREIGN_LATIN("SEN", 150, wa_male, wa_female, sn_family, sn_cities),
    FOREIGN_LATIN("ESP", 100, es_male, es_female, es_family, es_cities),
    FOREIGN_ARABIC("TUN", 70, tn_cities),
    FOREIGN_LATIN("MLI", 60, wa_male, wa_female, ml_family, ml_cities),
    FOREIGN_LATIN("CIV", 60, wa_male, wa_female, ci_family, ci_cities),
    FOREIGN_ARABIC("SYR", 50, sy_cities),
    FOREIGN_LATIN("GIN", 40, wa_male, wa_female, gn_family, gn_cities),
    FOREIGN_ARABIC("MRT", 30, mr_cities),
    FOREIGN_LATIN("BEL", 30, fr_male, fr_female, fr_family, be_cities),
    FOREIGN_LATIN("ITA", 30, it_male, it_female, it_family, it_cities),
    FOREIGN_LATIN("DEU", 20, de_male, de_female, de_family, de_cities),
};

/* ------------------------------------------------------------ places */

static const char *const q_casablanca[] = {
    "Hay Mohammadi", "Sidi Moumen",       "Maârif",         "Derb Sultan",
    "Hay Hassani",   "Aïn Chock",         "Sidi Bernoussi", "Bourgogne",
    "Oulfa",         "Belvédère",         "Ben M'Sick",     "Aïn Sebaâ",
    "Sbata",         "Hay Moulay Rachid", "Sidi Othmane",   "Lissasfa",
    "Gauthier",      "Californie",        "Hay El Fath",    "Derb Ghallef"};
static const char *const q_rabat[] = {
    "Agdal",   "Hay Riad", "Yacoub El Mansour", "Takaddoum", "Youssoufia", "Akkari", "Océan",
    "Souissi", "Hassan",   "Diour Jamaa",       "Hay Nahda"};
static const char *const q_sale[] = {"Tabriquet",  "Hay Salam",      "Bettana",  "Sidi Moussa",
                                     "Hay Karima", "Sala Al Jadida", "Laayayda", "Hay Rahma"};
static const char *const q_fes[] = {"Saïss",      "Narjiss",          "Zouagha",   "Bensouda",
                                    "Aïn Haroun", "Route d'Imouzzer", "Hay Tariq", "Aouinat Hajjaj",
                                    "Atlas",      "Fès Jdid"};
static const char *const q_marrakech[] = {
    "Daoudiate", "Massira",       "Sidi Youssef Ben Ali", "Guéliz", "M'hamid",
    "Azli",      "Hay Mohammadi", "Bab Doukkala",         "Targa",  "Issil"};
static const char *const q_tanger[] = {"Beni Makada", "Mesnana", "Casabarata",
                                       "Boukhalef",   "Marshan", "Malabata",
                                       "Dradeb",      "Aouama",  "Branes"};
static const char *const q_agadir[] = {"Dakhla",        "Hay Salam", "Tikiouine", "Talborjt",
                                       "Hay Mohammadi", "Charaf",    "Bensergao", "Anza"};
static const char *const q_meknes[] = {"Hamria",  "Marjane",          "Bassatine", "Sidi Baba",
                                       "Zitoune", "Borj Moulay Omar", "Wislane"};
static const char *const q_oujda[] = {"Lazaret",   "Hay Al Qods", "Sidi Yahya",
                                      "Hay Salam", "Al Andalous", "Boudir"};
static const char *const q_kenitra[] = {"Ouled Oujih", "Bir Rami",    "Maamora",
                                        "Saknia",      "Ville Haute", "Khabazat"};
static const char *const q_tetouan[] = {"Mhannech",   "Touabel", "Sania Rmel",
                                        "Jbel Dersa", "Kouilma", "Boujarrah"};
static const char *const q_generic[] = {"Hay Al Massira",  "Hay Salam",    "Hay Al Qods",
                                        "Hay Nahda",       "Hay Al Wahda", "Hay Al Amal",
                                        "Hay Mohammadi",   "Hay Hassani",  "Hay Al Fath",
                                        "Hay Al Andalous", "Hay Riad",     "Hay Al Inbiaat"};

/* Moroccan cities: French name, weight (about thousands of inhabitants), landline area code. */
struct gen_city {
    const char *name;
    uint16_t w;
    char area[3]; /* the two digits after +212 5 */
    const char *const *quarters;
    uint8_t nquarters;
};
#define CITY(name, w, area, q)                                                                     \
    {                                                                                              \
        name, w, area, q, GEN_LEN(q)                                                               \
    }

enum {
    C_CASABLANCA,
    C_RABAT,
    C_SALE,
    C_TEMARA,
    C_FES,
    C_MARRAKECH,
    C_TANGER,
    C_MEKNES,
    C_AGADIR,
    C_OUJDA,
    C_KENITRA,
    C_TETOUAN,
    C_SAFI,
    C_MOHAMMEDIA,
    C_ELJADIDA,
    C_BENIMELLAL,
    C_NADOR,
    C_KHOURIBGA,
    C_TAZA,
    C_SETTAT,
    C_BERRECHID,
    C_KHEMISSET,
    C_INEZGANE,
    C_KSAR,
    C_LARACHE,
    C_GUELMIM,
    C_BERKANE,
    C_LAAYOUNE,
    C_DAKHLA,
    C_ERRACHIDIA,
    C_OUARZAZATE,
    C_ESSAOUIRA,
    C_TAROUDANT,
    C_TIZNIT,
    C_HOCEIMA,
    C_SIDIKACEM,
    C_SIDISLIMANE,
    C_FQUIH,
    C_KHENIFRA,
    C_AZROU,
    C_MIDELT,
    C_TINGHIR,
    C_ZAGORA,
    C_CHEFCHAOUEN,
    C_OUEZZANE,
    C_GUERCIF,
    C_TAOURIRT,
    C_YOUSSOUFIA,
    C_SIDIBENNOUR,
    C_KELAA,
    C_BENSLIMANE,
    C_SEFROU,
    C_TANTAN,
    C_SMARA,
};

static const struct gen_city gen_cities[] = {
    [C_CASABLANCA] = CITY("Casablanca", 3400, "22", q_casablanca),
    [C_RABAT] = CITY("Rabat", 580, "37", q_rabat),
    [C_SALE] = CITY("Salé", 980, "37", q_sale),
    [C_TEMARA] = CITY("Témara", 310, "37", q_generic),
    [C_FES] = CITY("Fès", 1150, "35", q_fes),
    [C_MARRAKECH] = CITY("Marrakech", 930, "24", q_marrakech),
    [C_TANGER] = CITY("Tanger", 950, "39", q_tanger),
    [C_MEKNES] = CITY("Meknès", 630, "35", q_meknes),
    [C_AGADIR] = CITY("Agadir", 420, "28", q_agadir),
    [C_OUJDA] = CITY("Oujda", 560, "36", q_oujda),
    [C_KENITRA] = CITY("Kénitra", 430, "37", q_kenitra),
    [C_TETOUAN] = CITY("Tétouan", 380, "39", q_tetouan),
    [C_SAFI] = CITY("Safi", 310, "24", q_generic),
    [C_MOHAMMEDIA] = CITY("Mohammédia", 210, "23", q_generic),
    [C_ELJADIDA] = CITY("El Jadida", 200, "23", q_generic),
    [C_BENIMELLAL] = CITY("Béni Mellal", 190, "23", q_generic),
    [C_NADOR] = CITY("Nador", 160, "36", q_generic),
    [C_KHOURIBGA] = CITY("Khouribga", 200, "23", q_generic),
    [C_TAZA] = CITY("Taza", 150, "35", q_generic),
    [C_SETTAT] = CITY("Settat", 140, "23", q_generic),
    [C_BERRECHID] = CITY("Berrechid", 140, "22", q_generic),
    [C_KHEMISSET] = CITY("Khémisset", 130, "37", q_generic),
    [C_INEZGANE] = CITY("Inezgane", 130, "28", q_generic),
    [C_KSAR] = CITY("Ksar El Kébir", 130, "39", q_generic),
    [C_LARACHE] = CITY("Larache", 125, "39", q_generic),
    [C_GUELMIM] = CITY("Guelmim", 120, "28", q_generic),
    [C_BERKANE] = CITY("Berkane", 120, "36", q_generic),
    [C_LAAYOUNE] = CITY("Laâyoune", 220, "28", q_generic),
    [C_DAKHLA] = CITY("Dakhla", 110, "28", q_generic),
    [C_ERRACHIDIA] = CITY("Errachidia", 90, "35", q_generic),
    [C_OUARZAZATE] = CITY("Ouarzazate", 70, "24", q_generic),
    [C_ESSAOUIRA] = CITY("Essaouira", 80, "24", q_generic),
    [C_TAROUDANT] = CITY("Taroudant", 80, "28", q_generic),
    [C_TIZNIT] = CITY("Tiznit", 70, "28", q_generic),
    [C_HOCEIMA] = CITY("Al Hoceïma", 60, "39", q_generic),
    [C_SIDIKACEM] = CITY("Sidi Kacem", 75, "37", q_generic),
    [C_SIDISLIMANE] = CITY("Sidi Slimane", 90, "37", q_generic),
    [C_FQUIH] = CITY("Fquih Ben Salah", 100, "23", q_generic),
    [C_KHENIFRA] = CITY("Khénifra", 120, "35", q_generic),
    [C_AZROU] = CITY("Azrou", 55, "35", q_generic),
    [C_MIDELT] = CITY("Midelt", 55, "35", q_generic),
    [C_TINGHIR] = CITY("Tinghir", 40, "24", q_generic),
    [C_ZAGORA] = CITY("Zagora", 40, "24", q_generic),
    [C_CHEFCHAOUEN] = CITY("Chefchaouen", 45, "39", q_generic),
    [C_OUEZZANE] = CITY("Ouezzane", 60, "37", q_generic),
    [C_GUERCIF] = CITY("Guercif", 90, "36", q_generic),
    [C_TAOURIRT] = CITY("Taourirt", 100, "36", q_generic),
    [C_YOUSSOUFIA] = CITY("Youssoufia", 70, "24", q_generic),
    [C_SIDIBENNOUR] = CITY("Sidi Bennour", 50, "23", q_generic),
    [C_KELAA] = CITY("El Kelâa des Sraghna", 90, "24", q_generic),
    [C_BENSLIMANE] = CITY("Benslimane", 60, "23", q_generic),
    [C_SEFROU] = CITY("Sefrou", 80, "35", q_generic),
    [C_TANTAN] = CITY("Tan-Tan", 80, "28", q_generic),
    [C_SMARA] = CITY("Smara", 60, "28", q_generic),
};

static const char *const gen_streets[] = {"Mohammed V",
                                          "Hassan II",
                                          "Mohammed VI",
                                          "Ibn Batouta",
                                          "Ibn Sina",
                                          "Ibn Khaldoun",
                                          "Ibn Rochd",
                                          "Al Farabi",
                                          "Zerktouni",
                                          "Abdelmoumen",
                                          "Moulay Youssef",
                                          "Moulay Ismaïl",
                                          "Moulay Slimane",
                                          "Allal Ben Abdellah",
                                          "Allal El Fassi",
                                          "Al Massira",
                                          "Al Moukawama",
                                          "Oqba Ibn Nafii",
                                          "Tarik Ibn Ziad",
                                          "Youssef Ibn Tachfine",
                                          "Abdelkrim El Khattabi",
                                          "Al Quds",
                                          "Palestine",
                                          "Fal Ould Oumeir",
                                          "Patrice Lumumba",
                                          "Ghandi",
                                          "Anfa",
                                          "Lalla Yacout",
                                          "Moulay Rachid",
                                          "Ibn Toumert",
                                          "Al Mansour Eddahbi",
                                          "Imam Malik",
                                          "Oued Sebou",
                                          "Oued Ziz",
                                          "Bir Anzarane",
                                          "de Fès",
                                          "de Tanger",
                                          "de Marrakech",
                                          "Al Jahid",
                                          "Ibn Al Haytam",
                                          "Abou Bakr Esseddik",
                                          "Omar Ibn Al Khattab",
                                          "Al Wahda",
                                          "Sidi Mohammed Ben Abdellah",
                                          "Chefchaouen",
                                          "Al Kods",
                                          "Annakhil",
                                          "Al Andalous"};

static const char *const gen_street_kinds[] = {"Rue",    "Rue",       "Rue",    "Rue",
                                               "Avenue", "Boulevard", "Impasse"};

static const char *const gen_residences[] = {
    "Al Amal",  "Nassim",     "Al Boustane", "Yasmine", "Al Firdaous", "Les Jardins",
    "Al Manar", "Riad Salam", "Annasr",      "Al Majd", "Ennakhil"};

/* Rural communes and their provinces, for addresses in a douar. */
static const char *const gen_rural[][2] = {{"Had Soualem", "Berrechid"},
                                           {"Tit Mellil", "Médiouna"},
                                           {"Aït Ourir", "Al Haouz"},
                                           {"Sidi Allal Bahraoui", "Khémisset"},
                                           {"Ouled Teïma", "Taroudant"},
                                           {"Bouskoura", "Nouaceur"},
                                           {"Lalla Mimouna", "Kénitra"},
                                           {"Had Kourt", "Sidi Kacem"},
                                           {"Sidi Bibi", "Chtouka-Aït Baha"},
                                           {"Tamellalt", "El Kelâa des Sraghna"},
                                           {"Sidi Rahal", "El Kelâa des Sraghna"},
                                           {"Oulad Ayad", "Fquih Ben Salah"},
                                           {"Aïn Leuh", "Ifrane"},
                                           {"Bni Bouayach", "Al Hoceïma"},
                                           {"Zaïo", "Nador"},
                                           {"Sebt Gzoula", "Safi"},
                                           {"Ouled Frej", "El Jadida"},
                                           {"Tahannaout", "Al Haouz"},
                                           {"Sidi Yahya El Gharb", "Sidi Slimane"},
                                           {"Imouzzer Kandar", "Sefrou"}};

static const char *const gen_douars[] = {"Ouled Ahmed", "Ouled Moussa", "Ouled Brahim", "Laâwamer",
                                         "Lhamri",      "Ouled Ali",    "Aït Brahim",   "Tighza",
                                         "Ouled Said",  "Lkhmalcha",    "Bni Oual"};

/*
 * CIN letters of the issuing offices, the city people of that office live
 * in, and how many blocks of 100000 numbers the office owns (its weight,
 * 1 to 9: numbers are then 100000 to n*100000 + 99999).
 */
struct gen_cin_office {
    char letters[3];
    uint8_t blocks;
    uint8_t city;
};
static const struct gen_cin_office gen_cin_offices[] = {
    {"A", 9, C_RABAT},        {"AA", 6, C_RABAT},       {"AB", 7, C_SALE},
    {"AD", 5, C_TEMARA},      {"AE", 6, C_SALE},        {"B", 9, C_CASABLANCA},
    {"BB", 9, C_CASABLANCA},  {"BE", 9, C_CASABLANCA},  {"BH", 9, C_CASABLANCA},
    {"BJ", 8, C_CASABLANCA},  {"BK", 9, C_CASABLANCA},  {"BL", 8, C_CASABLANCA},
    {"BM", 7, C_CASABLANCA},  {"BW", 5, C_CASABLANCA},  {"T", 5, C_MOHAMMEDIA},
    {"C", 9, C_FES},          {"CB", 7, C_FES},         {"CD", 6, C_FES},
    {"D", 8, C_MEKNES},       {"DA", 4, C_MEKNES},      {"DN", 2, C_AZROU},
    {"E", 9, C_MARRAKECH},    {"EE", 8, C_MARRAKECH},   {"EA", 4, C_MARRAKECH},
    {"F", 7, C_OUJDA},        {"FA", 4, C_OUJDA},       {"FB", 3, C_BERKANE},
    {"FL", 2, C_TAOURIRT},    {"G", 7, C_KENITRA},      {"GA", 4, C_KENITRA},
    {"GB", 3, C_SIDIKACEM},   {"GK", 2, C_SIDISLIMANE}, {"H", 6, C_SAFI},
    {"HA", 3, C_SAFI},        {"HH", 2, C_YOUSSOUFIA},  {"I", 6, C_BENIMELLAL},
    {"IA", 3, C_BENIMELLAL},  {"IB", 3, C_FQUIH},       {"J", 7, C_AGADIR},
    {"JA", 5, C_AGADIR},      {"JB", 5, C_INEZGANE},    {"JC", 3, C_TAROUDANT},
    {"JE", 2, C_TIZNIT},      {"JH", 2, C_GUELMIM},     {"K", 9, C_TANGER},
    {"KA", 5, C_TANGER},      {"KB", 4, C_TANGER},      {"L", 7, C_TETOUAN},
    {"LA", 3, C_TETOUAN},     {"LB", 3, C_LARACHE},     {"LC", 3, C_KSAR},
    {"LE", 2, C_CHEFCHAOUEN}, {"M", 6, C_ELJADIDA},     {"MC", 2, C_SIDIBENNOUR},
    {"N", 4, C_KHEMISSET},    {"P", 4, C_TAZA},         {"PA", 2, C_GUERCIF},
    {"Q", 5, C_KHOURIBGA},    {"R", 2, C_HOCEIMA},      {"S", 5, C_NADOR},
    {"SA", 2, C_NADOR},       {"SH", 3, C_LAAYOUNE},    {"SJ", 2, C_DAKHLA},
    {"SK", 1, C_SMARA},       {"SL", 1, C_TANTAN},      {"U", 3, C_ERRACHIDIA},
    {"UA", 2, C_OUARZAZATE},  {"UB", 1, C_TINGHIR},     {"UC", 1, C_ZAGORA},
    {"V", 3, C_KHENIFRA},     {"VA", 1, C_MIDELT},      {"W", 5, C_SETTAT},
    {"WA", 4, C_BERRECHID},   {"WB", 2, C_BENSLIMANE},  {"X", 3, C_KELAA},
    {"Y", 3, C_SEFROU},       {"Z", 3, C_ESSAOUIRA},    {"ZG", 1, C_OUEZZANE},
};

/*
 * Plate prefecture codes 1 to 89 and how many blocks of 9999 serials each
 * has used (weight by fleet: 70 blocks = all seven series letters). Small
 * provinces have only low serials of the first letter, as in real life.
 */
static const uint8_t gen_plate_units[90] = {
    [1] = 70,  [2] = 30,  [3] = 25,  [4] = 35,  [5] = 15,  [6] = 70,  [7] = 70,  [8] = 70,
    [9] = 70,  [10] = 70, [11] = 70, [12] = 60, [13] = 70, [14] = 30, [15] = 40, [16] = 30,
    [17] = 20, [18] = 8,  [19] = 3,  [20] = 35, [21] = 25, [22] = 6,  [23] = 4,  [24] = 8,
    [25] = 8,  [26] = 55, [27] = 35, [28] = 20, [29] = 10, [30] = 5,  [31] = 10, [32] = 8,
    [33] = 40, [34] = 30, [35] = 10, [36] = 12, [37] = 8,  [38] = 8,  [39] = 4,  [40] = 60,
    [41] = 5,  [42] = 15, [43] = 6,  [44] = 30, [45] = 10, [46] = 12, [47] = 6,  [48] = 30,
    [49] = 12, [50] = 25, [51] = 6,  [52] = 4,  [53] = 3,  [54] = 20, [55] = 30, [56] = 20,
    [57] = 18, [58] = 8,  [59] = 35, [60] = 10, [61] = 25, [62] = 5,  [63] = 3,  [64] = 6,
    [65] = 4,  [66] = 2,  [67] = 1,  [68] = 12, [69] = 2,  [70] = 6,  [71] = 1,  [72] = 40,
    [73] = 25, [74] = 10, [75] = 8,  [76] = 4,  [77] = 5,  [78] = 5,  [79] = 6,  [80] = 5,
    [81] = 18, [82] = 6,  [83] = 5,  [84] = 8,  [85] = 5,  [86] = 4,  [87] = 2,  [88] = 1,
    [89] = 1,
};
#define GEN_PLATE_UNITS_MAX 70
#define GEN_PLATE_UNIT      9999

/* The series letters in the order they are issued; ه as plates show it (هـ). */
static const char *const gen_plate_letters[7] = {"أ", "ب", "د", "هـ", "و", "ط", "ي"};

/* ------------------------------------------------------------ vehicles */

struct gen_make {
    const char *name;
    const char *wmi[3]; /* world manufacturer identifiers, by weight 3:2:1 */
};
enum {
    M_DACIA,
    M_RENAULT,
    M_PEUGEOT,
    M_CITROEN,
    M_HYUNDAI,
    M_KIA,
    M_TOYOTA,
    M_FIAT,
    M_VW,
    M_MERCEDES,
    M_FORD,
    M_NISSAN,
    M_MITSUBISHI,
    M_ISUZU,
    M_SUZUKI,
    M_SKODA,
    M_OPEL,
    M_SEAT,
    M_BMW,
    M_LANDROVER,
};
static const struct gen_make gen_makes[] = {
    [M_DACIA] = {"Dacia", {"UU1", "UU1", "UU1"}},
    [M_RENAULT] = {"Renault", {"VF1", "VF1", "VF1"}},
    [M_PEUGEOT] = {"Peugeot", {"VF3", "VF3", "VR3"}},
    [M_CITROEN] = {"Citroën", {"VF7", "VF7", "VR7"}},
    [M_HYUNDAI] = {"Hyundai", {"KMH", "MAL", "NLH"}},
    [M_KIA] = {"Kia", {"KNA", "KNA", "U5Y"}},
    [M_TOYOTA] = {"Toyota", {"JTD", "MR0", "SB1"}},
    [M_FIAT] = {"Fiat", {"ZFA", "ZFA", "9BD"}},
    [M_VW] = {"Volkswagen", {"WVW", "WVW", "WV2"}},
    [M_MERCEDES] = {"Mercedes-Benz", {"WDB", "WDD", "WDB"}},
    [M_FORD] = {"Ford", {"WF0", "WF0", "MNB"}},
    [M_NISSAN] = {"Nissan", {"SJN", "JN1", "VSK"}},
    [M_MITSUBISHI] = {"Mitsubishi", {"MMB", "JMB", "MMB"}},
    [M_ISUZU] = {"Isuzu", {"MPA", "MPA", "JAA"}},
    [M_SUZUKI] = {"Suzuki", {"MA3", "JSA", "TSM"}},
    [M_SKODA] = {"Škoda", {"TMB", "TMB", "TMB"}},
    [M_OPEL] = {"Opel", {"W0L", "W0L", "VXK"}},
    [M_SEAT] = {"Seat", {"VSS", "VSS", "VSS"}},
    [M_BMW] = {"BMW", {"WBA", "WBA", "WBS"}},
    [M_LANDROVER] = {"Land Rover", {"SAL", "SAL", "SAL"}},
};

/* Models in Morocco's fleet: weight and the years they were built (clipped to 1985-2025). */
struct gen_model {
    uint8_t make;
    const char *name;
    uint16_t w;
    uint16_t from, to;
};
static const struct gen_model gen_models[] = {
    {M_DACIA, "Logan", 900, 2005, 2025},
    {M_DACIA, "Sandero", 700, 2008, 2025},
    {M_DACIA, "Duster", 450, 2010, 2025},
    {M_DACIA, "Lodgy", 200, 2012, 2022},
    {M_DACIA, "Dokker", 250, 2012, 2021},
    {M_DACIA, "Spring", 20, 2021, 2025},
    {M_RENAULT, "Clio", 500, 1991, 2025},
    {M_RENAULT, "Kangoo", 300, 1998, 2025},
    {M_RENAULT, "Symbol", 150, 2000, 2013},
    {M_RENAULT, "Mégane", 150, 1996, 2025},
    {M_RENAULT, "Express", 120, 1985, 2025},
    {M_RENAULT, "R4", 60, 1985, 1992},
    {M_RENAULT, "Kadjar", 40, 2015, 2022},
    {M_RENAULT, "Master", 60, 1985, 2025},
    {M_PEUGEOT, "208", 350, 2012, 2025},
    {M_PEUGEOT, "301", 300, 2012, 2025},
    {M_PEUGEOT, "206", 250, 1998, 2012},
    {M_PEUGEOT, "Partner", 300, 1996, 2025},
    {M_PEUGEOT, "205", 80, 1985, 1998},
    {M_PEUGEOT, "405", 60, 1987, 1997},
    {M_PEUGEOT, "307", 80, 2001, 2008},
    {M_PEUGEOT, "308", 120, 2007, 2025},
    {M_PEUGEOT, "2008", 120, 2013, 2025},
    {M_PEUGEOT, "3008", 100, 2009, 2025},
    {M_PEUGEOT, "Boxer", 60, 1994, 2025},
    {M_CITROEN, "C3", 200, 2002, 2025},
    {M_CITROEN, "C4", 60, 2004, 2025},
    {M_CITROEN, "Berlingo", 200, 1996, 2025},
    {M_CITROEN, "C-Elysée", 120, 2012, 2022},
    {M_CITROEN, "Jumpy", 50, 1995, 2025},
    {M_HYUNDAI, "Accent", 250, 1994, 2025},
    {M_HYUNDAI, "i10", 250, 2008, 2025},
    {M_HYUNDAI, "Tucson", 150, 2004, 2025},
    {M_HYUNDAI, "H-1", 60, 1997, 2021},
    {M_HYUNDAI, "i20", 80, 2008, 2025},
    {M_KIA, "Picanto", 250, 2004, 2025},
    {M_KIA, "Rio", 100, 2000, 2025},
    {M_KIA, "Sportage", 120, 1993, 2025},
    {M_TOYOTA, "Yaris", 180, 1999, 2025},
    {M_TOYOTA, "Hilux", 180, 1985, 2025},
    {M_TOYOTA, "Corolla", 120, 1985, 2025},
    {M_TOYOTA, "Land Cruiser", 80, 1985, 2025},
    {M_TOYOTA, "RAV4", 60, 1994, 2025},
    {M_FIAT, "Uno", 250, 1985, 2013},
    {M_FIAT, "Palio", 250, 1996, 2012},
    {M_FIAT, "Siena", 80, 1997, 2012},
    {M_FIAT, "Doblo", 150, 2001, 2025},
    {M_FIAT, "Punto", 100, 1993, 2018},
    {M_FIAT, "Tipo", 80, 2016, 2025},
    {M_VW, "Golf", 250, 1985, 2025},
    {M_VW, "Polo", 200, 1985, 2025},
    {M_VW, "Touareg", 80, 2002, 2025},
    {M_VW, "Passat", 80, 1985, 2025},
    {M_VW, "Tiguan", 100, 2007, 2025},
    {M_VW, "Caddy", 100, 1995, 2025},
    {M_MERCEDES, "190", 200, 1985, 1993},
    {M_MERCEDES, "240 D", 150, 1985, 1986},
    {M_MERCEDES, "Classe C", 150, 1993, 2025},
    {M_MERCEDES, "Classe E", 120, 1993, 2025},
    {M_MERCEDES, "Sprinter", 120, 1995, 2025},
    {M_MERCEDES, "Vito", 60, 1996, 2025},
    {M_FORD, "Fiesta", 120, 1985, 2023},
    {M_FORD, "Focus", 80, 1998, 2025},
    {M_FORD, "Transit", 120, 1985, 2025},
    {M_FORD, "Ranger", 60, 1998, 2025},
    {M_NISSAN, "Micra", 60, 1992, 2025},
    {M_NISSAN, "Qashqai", 80, 2007, 2025},
    {M_NISSAN, "Navara", 50, 1997, 2025},
    {M_MITSUBISHI, "L200", 120, 1986, 2025},
    {M_MITSUBISHI, "Pajero", 60, 1985, 2021},
    {M_ISUZU, "D-Max", 150, 2002, 2025},
    {M_SUZUKI, "Swift", 80, 1985, 2025},
    {M_SUZUKI, "Celerio", 60, 2014, 2025},
    {M_SKODA, "Octavia", 60, 1996, 2025},
    {M_SKODA, "Fabia", 50, 1999, 2025},
    {M_OPEL, "Corsa", 60, 1985, 2025},
    {M_OPEL, "Astra", 50, 1991, 2025},
    {M_SEAT, "Ibiza", 80, 1985, 2025},
    {M_SEAT, "Leon", 50, 1999, 2025},
    {M_BMW, "Série 3", 50, 1985, 2025},
    {M_BMW, "X5", 30, 1999, 2025},
    {M_LANDROVER, "Range Rover", 30, 1985, 2025},
    {M_LANDROVER, "Defender", 20, 1985, 2025},
};

static const char *const gen_colours[] = {"blanc",  "gris",     "noir",   "bleu",
                                          "rouge",  "beige",    "argent", "vert",
                                          "marron", "bordeaux", "jaune",  "orange"};
static const uint16_t gen_colour_w[] = {300, 220, 140, 80, 70, 50, 60, 30, 20, 20, 5, 5};

/* Letters of a VIN (no I, O, Q) and model-year codes from 1980 (position 10). */
static const char gen_vin_chars[] = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
static const char gen_vin_years[] = "ABCDEFGHJKLMNPRSTVWXY123456789";

/* Foreign plates by country (per thousand foreign plates). */
static const struct {
    char cc[3];
    uint16_t w;
} gen_plate_countries[] = {{"FR", 400}, {"ES", 250}, {"BE", 120},
                           {"IT", 80},  {"NL", 80},  {"DE", 70}};

/* Diplomatic missions' numbers and German registration districts. */
#define GEN_DIPLO_MISSIONS 140
static const char *const gen_de_districts[] = {"B", "M", "HH", "K", "F", "S", "D", "DO", "E", "HB"};

/* ------------------------------------------------------------ hotlist */

static const char *const gen_crimes[] = {"vol qualifié",
                                         "trafic de stupéfiants",
                                         "escroquerie",
                                         "homicide volontaire",
                                         "coups et blessures volontaires",
                                         "émission de chèque sans provision",
                                         "abus de confiance",
                                         "faux et usage de faux",
                                         "vol avec violence",
                                         "association de malfaiteurs",
                                         "enlèvement et séquestration",
                                         "trafic de migrants",
                                         "vol à l'arraché",
                                         "cambriolage",
                                         "menaces de mort",
                                         "évasion",
                                         "détournement de deniers publics",
                                         "incendie volontaire",
                                         "contrebande",
                                         "recel de biens volés"};
static const uint16_t gen_crime_w[] = {120, 140, 100, 15, 80, 90, 50, 40, 60, 30,
                                       10,  20,  70,  50, 20, 5,  10, 10, 30, 40};

static const char *const gen_services_city[] = {"Casablanca", "Rabat",   "Fès",    "Marrakech",
                                                "Tanger",     "Agadir",  "Meknès", "Oujda",
                                                "Kénitra",    "Tétouan", "Salé",   "El Jadida"};
static const uint16_t gen_services_city_w[] = {300, 120, 90, 90, 90, 60, 50, 50, 40, 40, 40, 30};

static const char *const gen_instr_seize[] = {
    "Immobiliser le véhicule et aviser la salle de commandement.",
    "Saisir le véhicule, interpeller les occupants et aviser l'OPJ de permanence.",
    "Ne pas intervenir seul : demander du renfort avant l'interception.",
    "Saisir le véhicule et le conduire à la fourrière la plus proche."};
static const char *const gen_instr_stop_vehicle[] = {
    "Contrôler le véhicule et vérifier les documents du conducteur.",
    "Relever l'identité du conducteur et signaler la position du véhicule.",
    "Contrôler le véhicule sans l'immobiliser et informer le service émetteur."};
static const char *const gen_instr_arrest[] = {
    "Interpeller et conduire au commissariat le plus proche.",
    "Individu potentiellement dangereux : intervention avec renfort.",
    "Interpeller et aviser le parquet compétent.",
    "Interpeller et présenter à l'OPJ de permanence."};
static const char *const gen_instr_stop_person[] = {
    "Contrôler l'identité et signaler la position sans interpeller.",
    "Relever l'adresse actuelle et informer le service émetteur.",
    "Convoquer l'intéressé au service émetteur."};
static const char *const gen_instr_protect[] = {
    "Mettre en sécurité et prévenir la famille par le service émetteur.",
    "Personne vulnérable : prise en charge et aviser la brigade des mineurs.",
    "Mettre en sécurité et demander une assistance médicale si nécessaire."};
static const char *const gen_instr_report[] = {
    "Signaler la position au service émetteur sans intervention.",
    "Personne majeure : ne pas retenir, informer le service émetteur.",
    "Relever l'adresse actuelle et informer la famille par le service émetteur."};

/*
 * "Today" for the hotlist's validity dates: fixed, so that a seed always
 * gives the same records (records_gen_hotlist_at takes another).
 */
#define GEN_TODAY_DEFAULT "2026-11-29"

/* ================================================================ PRNG */

/* splitmix64: a bijective 64-bit mixer, and a generator stepping its input. */
static inline uint64_t gen_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

struct gen_rng {
    uint64_t s;
};

static inline uint64_t gen_next(struct gen_rng *r)
{
    r->s += 0x9E3779B97F4A7C15ULL;
    return gen_mix64(r->s);
}

/* A number in [0, n), n <= 2^32 (multiply-shift; the bias is below 2^-32). */
static inline uint32_t gen_below(struct gen_rng *r, uint32_t n)
{
    return (uint32_t)(((gen_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* What each draw is for: records and keyed permutations have their own streams. */
enum gen_stream {
    GEN_S_PERSON = 1,
    GEN_S_VEHICLE,
    GEN_S_HOTLIST,
    GEN_K_CIN,
    GEN_K_PLATE,
    GEN_K_PLATE_MORE,
    GEN_K_PLATE_WW,
    GEN_K_PLATE_FOREIGN,
    GEN_K_PLATE_DIPLO,
    GEN_K_VIN,
    GEN_K_HOT_PERSON,
    GEN_K_HOT_VEHICLE,
};

static inline uint64_t gen_key(uint64_t seed, enum gen_stream s)
{
    return gen_mix64(seed ^ gen_mix64((uint64_t)s * 0xD1B54A32D192ED03ULL));
}

/* Record `index` of a stream starts at its own scattered point of the generator's cycle. */
static inline void gen_rng_at(struct gen_rng *r, uint64_t seed, enum gen_stream s, uint64_t index)
{
    r->s = gen_mix64(gen_key(seed, s) + index);
}

/*
 * A keyed permutation of [0, m): an unbalanced Feistel network (six
 * half-rounds, each xoring one part with a keyed hash of the other) over
 * the bits that hold m, walking the cycle until the value falls below m
 * (fewer than 2 tries on average). x < m.
 */
static uint64_t gen_permute(uint64_t x, uint64_t m, uint64_t key)
{
    if (m <= 1)
        return 0;
    unsigned bits = 64u - (unsigned)__builtin_clzll(m - 1);
    unsigned a = bits / 2, b = bits - a;
    uint64_t ma = (1ULL << a) - 1, mb = (1ULL << b) - 1;
    do {
        uint64_t hi = x >> b, lo = x & mb;
        for (uint64_t i = 0; i < 6; i += 2) {
            hi ^= gen_mix64(lo ^ (key + i * 0x9E3779B97F4A7C15ULL)) & ma;
            lo ^= gen_mix64(hi ^ (key + (i + 1) * 0x9E3779B97F4A7C15ULL)) & mb;
        }
        x = (hi << b) | lo;
    } while (x >= m);
    return x;
}

/* ================================================================ tables, derived */

#define N_MALE    GEN_LEN(gen_male)
#define N_FEMALE  GEN_LEN(gen_female)
#define N_FAMILY  GEN_LEN(gen_family)
#define N_CITIES  GEN_LEN(gen_cities)
#define N_FOREIGN GEN_LEN(gen_foreigners)
#define N_MODELS  GEN_LEN(gen_models)
#define N_OFFICES GEN_LEN(gen_cin_offices)

#define GEN_CIN_BLOCK   100000ULL
#define GEN_CIN_BLOCKS  9 /* at most, per office: numbers 100000 to 999999 */
#define GEN_VIN_SPACE   (30ULL * 33ULL * 1000000ULL)  /* below 2^30 */
#define GEN_WW_SPACE    900000ULL                     /* WW 100000 to WW 999999 */
#define GEN_DIPLO_SPACE (GEN_DIPLO_MISSIONS * 999ULL) /* mission 1-140, vehicle 1-999 */

/*
 * A weighted table: cumulative weights (cum[i] = w[0] + ... + w[i]) and a
 * guide: guide[j] is the first entry a draw in the j-th of GEN_GUIDE equal
 * slices of the total can be, so that a draw scans one or two entries.
 */
#define GEN_GUIDE 1024
struct gen_table {
    uint32_t *cum;
    uint32_t n;
    uint16_t guide[GEN_GUIDE];
};

static uint32_t male_cum[N_MALE], female_cum[N_FEMALE], family_cum[N_FAMILY];
static uint32_t city_cum[N_CITIES], foreign_cum[N_FOREIGN], model_cum[N_MODELS];
static uint32_t colour_cum[GEN_LEN(gen_colours)], crime_cum[GEN_LEN(gen_crimes)];
static uint32_t service_city_cum[GEN_LEN(gen_services_city)];
static struct gen_table male_table = {male_cum, N_MALE, {0}},
                        female_table = {female_cum, N_FEMALE, {0}},
                        family_table = {family_cum, N_FAMILY, {0}},
                        city_table = {city_cum, N_CITIES, {0}},
                        foreign_table = {foreign_cum, N_FOREIGN, {0}},
                        model_table = {model_cum, N_MODELS, {0}},
                        colour_table = {colour_cum, GEN_LEN(gen_colours), {0}},
                        crime_table = {crime_cum, GEN_LEN(gen_crimes), {0}},
                        service_city_table = {service_city_cum, GEN_LEN(gen_services_city), {0}};

/* CIN blocks of the first tier: office and block number of each. */
static uint8_t cin_block_office[N_OFFICES * GEN_CIN_BLOCKS];
static uint8_t cin_block_no[N_OFFICES * GEN_CIN_BLOCKS];
static uint32_t cin_nblocks;

/* Plate units (prefecture code, unit number) of the first and of the second tier. */
static uint8_t plate_unit_code[2][89 * GEN_PLATE_UNITS_MAX];
static uint8_t plate_unit_no[2][89 * GEN_PLATE_UNITS_MAX];
static uint32_t plate_nunits[2];

/* The first tier of vehicle indexes: Moroccan, WW, foreign and diplomatic plates. */
static uint64_t plate_ma0, plate_ww0, plate_for0, plate_dip0, plate_d0;
static uint64_t plate_for_start[GEN_LEN(gen_plate_countries) + 1];

static pthread_once_t gen_once = PTHREAD_ONCE_INIT;

static void gen_guide_build(struct gen_table *t)
{
    uint64_t total = t->cum[t->n - 1];
    uint32_t i = 0;
    for (uint32_t j = 0; j < GEN_GUIDE; j++) {
        uint64_t low = total * j / GEN_GUIDE; /* the smallest draw of slice j */
        while (t->cum[i] <= low)
            i++;
        t->guide[j] = (uint16_t)i;
    }
}

static void gen_tables_build(void)
{
    uint32_t t = 0;
#define CUM(table, n, weight)                                                                      \
    do {                                                                                           \
        t = 0;                                                                                     \
        for (size_t i = 0; i < (n); i++)                                                           \
            table.cum[i] = t += (weight);                                                          \
        gen_guide_build(&table);                                                                   \
    } while (0)
    CUM(male_table, N_MALE, gen_male[i].w);
    CUM(female_table, N_FEMALE, gen_female[i].w);
    CUM(family_table, N_FAMILY, gen_family[i].w);
    CUM(city_table, N_CITIES, gen_cities[i].w);
    CUM(foreign_table, N_FOREIGN, gen_foreigners[i].w);
    CUM(model_table, N_MODELS, gen_models[i].w);
    CUM(colour_table, GEN_LEN(gen_colours), gen_colour_w[i]);
    CUM(crime_table, GEN_LEN(gen_crimes), gen_crime_w[i]);
    CUM(service_city_table, GEN_LEN(gen_services_city), gen_services_city_w[i]);
#undef CUM

    cin_nblocks = 0;
    for (size_t o = 0; o < N_OFFICES; o++) {
        for (uint8_t b = 0; b < gen_cin_offices[o].blocks && b < GEN_CIN_BLOCKS; b++) {
            cin_block_office[cin_nblocks] = (uint8_t)o;
            cin_block_no[cin_nblocks] = b;
            cin_nblocks++;
        }
    }

    plate_nunits[0] = plate_nunits[1] = 0;
    for (uint8_t c = 1; c <= 89; c++) {
        for (uint8_t u = 0; u < GEN_PLATE_UNITS_MAX; u++) {
            int tier = u < gen_plate_units[c] ? 0 : 1;
            plate_unit_code[tier][plate_nunits[tier]] = c;
            plate_unit_no[tier][plate_nunits[tier]] = u;
            plate_nunits[tier]++;
        }
    }
    /* About 1 % WW, 0.5 % foreign and 0.2 % diplomatic plates beside the Moroccan ones. */
    plate_ma0 = (uint64_t)plate_nunits[0] * GEN_PLATE_UNIT;
    plate_ww0 = plate_ma0 / 98;
    plate_for0 = plate_ma0 / 196;
    plate_dip0 = plate_ma0 / 490;
    if (plate_ww0 > GEN_WW_SPACE || plate_dip0 > GEN_DIPLO_SPACE)
        AM_BUG("records_gen: the WW or diplomatic plate space is too small");
    plate_d0 = plate_ma0 + plate_ww0 + plate_for0 + plate_dip0;
    plate_for_start[0] = 0;
    for (size_t i = 0; i < GEN_LEN(gen_plate_countries); i++)
        plate_for_start[i + 1] = plate_for_start[i] + plate_for0 * gen_plate_countries[i].w / 1000;
    plate_for_start[GEN_LEN(gen_plate_countries)] = plate_for0;
}

static inline void gen_tables(void)
{
    pthread_once(&gen_once, gen_tables_build);
}

/*
 * A weighted draw: the first i with cum[i] > x, x = floor(u * total) for a
 * uniform u in [0, 1), starting from the guide of u's slice.
 */
static uint32_t gen_pick(struct gen_rng *r, const struct gen_table *t)
{
    uint64_t u = gen_next(r) >> 32;
    uint32_t x = (uint32_t)((u * t->cum[t->n - 1]) >> 32);
    uint32_t i = t->guide[(u * GEN_GUIDE) >> 32];
    while (t->cum[i] <= x)
        i++;
    return i;
}

#define GEN_PICK(r, table) gen_pick(r, &table)

static uint32_t gen_nspell(const struct gen_name *nm)
{
    uint32_t n = 0;
    while (n < GEN_SPELL_MAX && nm->lat[n])
        n++;
    return n;
}

/* A Latin spelling of `nm`, the most common ones most often. */
static uint32_t gen_spell(struct gen_rng *r, const struct gen_name *nm)
{
    uint32_t n = gen_nspell(nm);
    if (n <= 1)
        return 0;
    uint32_t x = gen_below(r, gen_spell_cum[n - 1]), i = 0;
    while (x >= gen_spell_cum[i])
        i++;
    return i;
}

/* ================================================================ text */

/* Appends to a fixed array, always terminated, cut at a character boundary if full. */
struct gen_buf {
    char *p;
    size_t len, cap;
};

static inline void gb_init(struct gen_buf *b, char *p, size_t cap)
{
    b->p = p;
    b->len = 0;
    b->cap = cap;
    p[0] = '\0';
}

static void gb_mem(struct gen_buf *b, const char *s, size_t n)
{
    size_t room = b->cap - 1 - b->len;
    if (n > room) {
        n = room;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static inline void gb_str(struct gen_buf *b, const char *s)
{
    gb_mem(b, s, strlen(s));
}

/* Decimal, at least `width` digits (zero-padded). */
static void gb_uint(struct gen_buf *b, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width && n < (int)sizeof(tmp))
        tmp[sizeof(tmp) - 1 - n++] = '0';
    gb_mem(b, tmp + sizeof(tmp) - n, (size_t)n);
}

/* "de Fès", "d'Agadir": the French preposition before a place name. */
static void gb_de(struct gen_buf *b, const char *place)
{
    unsigned char c = (unsigned char)place[0];
    bool vowel = c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U' ||
                 (c == 0xC3 && (unsigned char)place[1] == 0x89); /* É */
    gb_str(b, vowel ? "d'" : "de ");
    gb_str(b, place);
}

static inline void gen_set(char *dst, size_t sz, const char *s)
{
    struct gen_buf b;
    gb_init(&b, dst, sz);
    gb_str(&b, s);
}

#define GEN_SET(field, s) gen_set(field, sizeof(field), s)

/* ================================================================ dates */

static bool gen_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int gen_days_in(int y, int m)
{
    static const uint8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && gen_leap(y) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm), and back. */
static int64_t gen_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void gen_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void gen_date(int64_t days, char out[REC_DATE_SZ])
{
    int y, m, d;
    gen_civil_from_days(days, &y, &m, &d);
    struct gen_buf b;
    gb_init(&b, out, REC_DATE_SZ);
    gb_uint(&b, (uint64_t)y, 4);
    gb_str(&b, "-");
    gb_uint(&b, (uint64_t)m, 2);
    gb_str(&b, "-");
    gb_uint(&b, (uint64_t)d, 2);
}

/* "YYYY-MM-DD" as days since 1970, or -1. */
static int64_t gen_parse_day(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    int v[3] = {0, 0, 0};
    static const int at[3] = {0, 5, 8}, len[3] = {4, 2, 2};
    for (int f = 0; f < 3; f++) {
        for (int i = 0; i < len[f]; i++) {
            char c = s[at[f] + i];
            if (c < '0' || c > '9')
                return -1;
            v[f] = v[f] * 10 + (c - '0');
        }
    }
    if (v[0] < 1900 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > gen_days_in(v[0], v[1]))
        return -1;
    return gen_days_from_civil(v[0], v[1], v[2]);
}

/* ================================================================ CIN */

/*
 * The CIN of person `k`. First tier (k below the offices' blocks times
 * 100000, 35 million with the table above): a keyed permutation of k picks
 * a block (an office, weighted by its number of blocks) and a 6-digit
 * number in it. Beyond: 7 and 8-digit numbers, the office by k modulo
 * their count, unique up to 5 billion persons.
 */
static void gen_cin(uint64_t seed, uint64_t k, char out[REC_CIN_SZ], uint8_t *city)
{
    uint64_t m0 = cin_nblocks * GEN_CIN_BLOCK;
    const struct gen_cin_office *o;
    uint64_t number;
    if (k < m0) {
        uint64_t u = gen_permute(k, m0, gen_key(seed, GEN_K_CIN));
        uint32_t b = (uint32_t)(u / GEN_CIN_BLOCK);
        o = &gen_cin_offices[cin_block_office[b]];
        number = (cin_block_no[b] + 1u) * GEN_CIN_BLOCK + u % GEN_CIN_BLOCK;
    } else {
        uint64_t k1 = (k - m0) % (N_OFFICES * 98999999ULL);
        o = &gen_cin_offices[k1 % N_OFFICES];
        number = 1000000 + k1 / N_OFFICES;
    }
    struct gen_buf b;
    gb_init(&b, out, REC_CIN_SZ);
    gb_str(&b, o->letters);
    gb_uint(&b, number, 6);
    if (city)
        *city = o->city;
}

void records_gen_cin(uint64_t seed, int64_t index, char out[REC_CIN_SZ])
{
    gen_tables();
    memset(out, 0, REC_CIN_SZ);
    gen_cin(seed, (uint64_t)index, out, NULL);
}

/* ================================================================ persons */

static void gen_alias(struct gen_rng *r, struct records_person *p, const struct gen_name *g,
                      uint32_t gs, const struct gen_name *f, uint32_t fs)
{
    struct gen_buf b;
    gb_init(&b, p->aliases[0], REC_NAME_MAX);
    uint32_t ng = gen_nspell(g), nf = gen_nspell(f);
    if (g->nick && gen_below(r, 2) == 0) {
        gb_str(&b, g->nick);
        gb_str(&b, " ");
        gb_str(&b, f->lat[fs]);
    } else if (ng > 1 || nf > 1) {
        /* Another spelling, as another registry or an old document wrote the name. */
        uint32_t og = ng > 1 ? (gs + 1 + gen_below(r, ng - 1)) % ng : gs;
        uint32_t of = nf > 1 ? (fs + 1 + gen_below(r, nf - 1)) % nf : fs;
        if (ng > 1 && nf > 1) {
            uint32_t which = gen_below(r, 3);
            if (which == 0)
                of = fs;
            else if (which == 1)
                og = gs;
        }
        gb_str(&b, g->lat[og]);
        gb_str(&b, " ");
        gb_str(&b, f->lat[of]);
    } else {
        /* The family name first, as on forms. */
        gb_str(&b, f->lat[fs]);
        gb_str(&b, " ");
        gb_str(&b, g->lat[gs]);
    }
    p->naliases = 1;
}

static void gen_names_arabic(struct gen_rng *r, struct records_person *p, bool male)
{
    const struct gen_name *g =
        male ? &gen_male[GEN_PICK(r, male_table)] : &gen_female[GEN_PICK(r, female_table)];
    uint32_t gs = gen_spell(r, g);
    const struct gen_name *f = &gen_family[GEN_PICK(r, family_table)];
    uint32_t fs = gen_spell(r, f);
    const struct gen_name *fa = &gen_male[GEN_PICK(r, male_table)];
    uint32_t fas = gen_spell(r, fa);
    GEN_SET(p->given_ar, g->ar);
    GEN_SET(p->given_lat, g->lat[gs]);
    GEN_SET(p->family_ar, f->ar);
    GEN_SET(p->family_lat, f->lat[fs]);
    GEN_SET(p->father_ar, fa->ar);
    GEN_SET(p->father_lat, fa->lat[fas]);
    if (gen_below(r, 1000) < 50)
        gen_alias(r, p, g, gs, f, fs);
}

static void gen_names_latin(struct gen_rng *r, struct records_person *p,
                            const struct gen_foreign *fo, bool male)
{
    GEN_SET(p->given_lat,
            male ? fo->male[gen_below(r, fo->nmale)] : fo->female[gen_below(r, fo->nfemale)]);
    GEN_SET(p->family_lat, fo->family[gen_below(r, fo->nfamily)]);
    GEN_SET(p->father_lat, fo->male[gen_below(r, fo->nmale)]);
}

/* Born 1940 to 2008, more of the young (the larger of two uniform years). */
static void gen_birth_date(struct gen_rng *r, char out[REC_DATE_SZ])
{
    uint32_t a = gen_below(r, 69), b = gen_below(r, 69);
    int y = 1940 + (int)(a > b ? a : b);
    struct gen_buf bb;
    gb_init(&bb, out, REC_DATE_SZ);
    gb_uint(&bb, (uint64_t)y, 4);
    /* Some old registrations hold only the year of birth. */
    if (y < 1950 && gen_below(r, 10) == 0)
        return;
    int m = 1 + (int)gen_below(r, 12);
    int d = 1 + (int)gen_below(r, (uint32_t)gen_days_in(y, m));
    gb_str(&bb, "-");
    gb_uint(&bb, (uint64_t)m, 2);
    gb_str(&bb, "-");
    gb_uint(&bb, (uint64_t)d, 2);
}

static void gen_address(struct gen_rng *r, uint32_t city, char out[REC_TEXT_MAX])
{
    const struct gen_city *c = &gen_cities[city];
    const char *q = c->quarters[gen_below(r, c->nquarters)];
    struct gen_buf b;
    gb_init(&b, out, REC_TEXT_MAX);
    uint32_t form = gen_below(r, 100);
    uint64_t num = 1 + gen_below(r, 180);
    if (form < 30) {
        gb_uint(&b, num, 0);
        gb_str(&b, ", ");
        gb_str(&b, gen_street_kinds[gen_below(r, GEN_LEN(gen_street_kinds))]);
        gb_str(&b, " ");
        gb_str(&b, gen_streets[gen_below(r, GEN_LEN(gen_streets))]);
        gb_str(&b, ", ");
        gb_str(&b, q);
    } else if (form < 45) {
        gb_uint(&b, num, 0);
        gb_str(&b, gen_below(r, 2) ? ", Avenue " : ", Boulevard ");
        gb_str(&b, gen_streets[gen_below(r, GEN_LEN(gen_streets))]);
    } else if (form < 70) {
        gb_str(&b, q);
        gb_str(&b, ", Bloc ");
        gb_uint(&b, 1 + gen_below(r, 30), 0);
        gb_str(&b, ", N° ");
        gb_uint(&b, num, 0);
    } else if (form < 85) {
        gb_str(&b, "Résidence ");
        gb_str(&b, gen_residences[gen_below(r, GEN_LEN(gen_residences))]);
        gb_str(&b, ", Imm. ");
        gb_uint(&b, 1 + gen_below(r, 40), 0);
        gb_str(&b, ", Appt ");
        gb_uint(&b, 1 + gen_below(r, 24), 0);
        gb_str(&b, ", ");
        gb_str(&b, q);
    } else if (form < 93) {
        gb_str(&b, "Lotissement ");
        gb_str(&b, gen_residences[gen_below(r, GEN_LEN(gen_residences))]);
        gb_str(&b, ", N° ");
        gb_uint(&b, num, 0);
    } else {
        const char *const *rural = gen_rural[gen_below(r, GEN_LEN(gen_rural))];
        gb_str(&b, "Douar ");
        gb_str(&b, gen_douars[gen_below(r, GEN_LEN(gen_douars))]);
        gb_str(&b, ", ");
        gb_str(&b, rural[0]);
        gb_str(&b, ", ");
        gb_str(&b, rural[1]);
        return;
    }
    gb_str(&b, ", ");
    gb_str(&b, c->name);
}

/* A mobile (+2126..., +2127...) or a landline of the city (+2125 and its area code). */
static void gen_phone(struct gen_rng *r, uint32_t city, char out[REC_PHONE_SZ])
{
    struct gen_buf b;
    gb_init(&b, out, REC_PHONE_SZ);
    uint32_t k = gen_below(r, 100);
    if (k < 55) {
        gb_str(&b, "+2126");
        gb_uint(&b, gen_below(r, 100000000), 8);
    } else if (k < 82) {
        static const char second[] = "012678";
        char s[2] = {second[gen_below(r, 6)], '\0'};
        gb_str(&b, "+2127");
        gb_str(&b, s);
        gb_uint(&b, gen_below(r, 10000000), 7);
    } else {
        gb_str(&b, "+2125");
        gb_str(&b, gen_cities[city].area);
        gb_uint(&b, gen_below(r, 1000000), 6);
    }
}

void records_gen_person_at(uint64_t seed, int64_t index, struct records_person *out)
{
    gen_tables();
    memset(out, 0, sizeof(*out));
    struct gen_rng r;
    gen_rng_at(&r, seed, GEN_S_PERSON, (uint64_t)index);

    uint8_t office_city;
    gen_cin(seed, (uint64_t)index, out->cin, &office_city);
    const struct gen_foreign *fo = NULL;
    if (gen_below(&r, 1000) < 10)
        fo = &gen_foreigners[GEN_PICK(&r, foreign_table)];
    bool male = gen_below(&r, 2) == 0;
    GEN_SET(out->sex, male ? "M" : "F");
    GEN_SET(out->nationality, fo ? fo->nat : "MAR");
    if (fo && !fo->arabic)
        gen_names_latin(&r, out, fo, male);
    else
        gen_names_arabic(&r, out, male);

    gen_birth_date(&r, out->birth_date);
    /* Most live where their CIN was issued; the others anywhere. */
    uint32_t city = gen_below(&r, 10) < 7 ? office_city : GEN_PICK(&r, city_table);
    if (fo)
        GEN_SET(out->birth_place, fo->cities[gen_below(&r, fo->ncities)]);
    else if (gen_below(&r, 100) < 55)
        GEN_SET(out->birth_place, gen_cities[city].name);
    else
        GEN_SET(out->birth_place, gen_cities[GEN_PICK(&r, city_table)].name);

    gen_address(&r, city, out->addresses[0]);
    out->naddresses = 1;
    uint32_t k = gen_below(&r, 100);
    out->nphones = k < 25 ? 0 : k < 80 ? 1 : 2;
    for (int i = 0; i < out->nphones; i++)
        gen_phone(&r, city, out->phones[i]);
    if (out->nphones == 2 && strcmp(out->phones[0], out->phones[1]) == 0)
        out->nphones = 1;
}

/* ================================================================ vehicles */

static void gen_plate_ma(struct gen_buf *b, int tier, uint64_t u)
{
    uint32_t unit = (uint32_t)(u / GEN_PLATE_UNIT);
    uint8_t code = plate_unit_code[tier][unit], no = plate_unit_no[tier][unit];
    uint64_t serial = (no % 10) * (uint64_t)GEN_PLATE_UNIT + u % GEN_PLATE_UNIT + 1;
    gb_uint(b, serial, 0);
    gb_str(b, " | ");
    gb_str(b, gen_plate_letters[no / 10]);
    gb_str(b, " | ");
    gb_uint(b, code, 0);
}

static void gb_letters(struct gen_buf *b, const char *alphabet, uint64_t *x, int n)
{
    uint64_t base = strlen(alphabet);
    char s[8];
    for (int i = n - 1; i >= 0; i--) {
        s[i] = alphabet[*x % base];
        *x /= base;
    }
    gb_mem(b, s, (size_t)n);
}

/* A foreign plate in its country's current format; c below the country's share. */
static void gen_plate_foreign(struct gen_buf *b, uint64_t seed, size_t country, uint64_t c)
{
    static const char l22[] = "ABCDEFGHJKLMNPQRSTVXYZ";  /* FR, IT: no I, O, U, W */
    static const char l23[] = "ABCDEFGHJKLMNPRSTUVWXYZ"; /* BE: no I, O, Q */
    static const char c20[] = "BCDFGHJKLMNPRSTVWXYZ";    /* ES: consonants */
    static const char c16[] = "BDFGHJKLNPRSTVXZ";        /* NL */
    static const uint64_t space[] = {22ULL * 22 * 22 * 22 * 999, 10000ULL * 20 * 20 * 20,
                                     2ULL * 23 * 23 * 23 * 999,  22ULL * 22 * 22 * 22 * 1000,
                                     16ULL * 16 * 16 * 999,      10ULL * 676 * 9999};
    /* 1000003 is prime and larger than every factor of the spaces: a bijection. */
    uint64_t x =
        (c * 1000003ULL + gen_key(seed, GEN_K_PLATE_FOREIGN) % space[country]) % space[country];
    uint64_t n;
    switch (country) {
    case 0: /* FR: AB-123-CD */
        n = x % 999 + 1;
        x /= 999;
        gb_letters(b, l22, &x, 2);
        gb_str(b, "-");
        gb_uint(b, n, 3);
        gb_str(b, "-");
        gb_letters(b, l22, &x, 2);
        break;
    case 1: /* ES: 1234 BCD */
        n = x % 10000;
        x /= 10000;
        gb_uint(b, n, 4);
        gb_str(b, " ");
        gb_letters(b, c20, &x, 3);
        break;
    case 2: /* BE: 1-ABC-123 */
        gb_uint(b, 1 + x % 2, 0);
        x /= 2;
        n = x % 999 + 1;
        x /= 999;
        gb_str(b, "-");
        gb_letters(b, l23, &x, 3);
        gb_str(b, "-");
        gb_uint(b, n, 3);
        break;
    case 3: /* IT: AB 123 CD */
        n = x % 1000;
        x /= 1000;
        gb_letters(b, l22, &x, 2);
        gb_str(b, " ");
        gb_uint(b, n, 3);
        gb_str(b, " ");
        gb_letters(b, l22, &x, 2);
        break;
    case 4: /* NL: AB-123-C */
        n = x % 999 + 1;
        x /= 999;
        gb_letters(b, c16, &x, 2);
        gb_str(b, "-");
        gb_uint(b, n, 3);
        gb_str(b, "-");
        gb_letters(b, c16, &x, 1);
        break;
    default: /* DE: B AB 1234 */
        n = x % 9999 + 1;
        x /= 9999;
        gb_str(b, gen_de_districts[x % GEN_LEN(gen_de_districts)]);
        x /= GEN_LEN(gen_de_districts);
        gb_str(b, " ");
        gb_letters(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", &x, 2);
        gb_str(b, " ");
        gb_uint(b, n, 0);
        break;
    }
}

/*
 * The plate of vehicle `index`. First tier: a keyed permutation of the
 * index over Moroccan units (weighted by prefecture), then WW, foreign and
 * diplomatic ranges. Beyond the first tier (about 18 million vehicles):
 * the prefectures' remaining units, up to 62 million plates in all.
 */
static void gen_plate(uint64_t seed, uint64_t index, struct records_vehicle *v)
{
    struct gen_buf b;
    gb_init(&b, v->plate, REC_PLATE_SZ);
    GEN_SET(v->country, "MA");
    v->plate_kind = REC_PLATE_MA;
    if (index >= plate_d0) {
        uint64_t m1 = (uint64_t)plate_nunits[1] * GEN_PLATE_UNIT;
        uint64_t u = gen_permute((index - plate_d0) % m1, m1, gen_key(seed, GEN_K_PLATE_MORE));
        gen_plate_ma(&b, 1, u);
        return;
    }
    uint64_t u = gen_permute(index, plate_d0, gen_key(seed, GEN_K_PLATE));
    if (u < plate_ma0) {
        gen_plate_ma(&b, 0, u);
        return;
    }
    u -= plate_ma0;
    if (u < plate_ww0) {
        v->plate_kind = REC_PLATE_WW;
        gb_str(&b, "WW ");
        gb_uint(&b,
                100000 + (u * 666667 + gen_key(seed, GEN_K_PLATE_WW) % GEN_WW_SPACE) % GEN_WW_SPACE,
                0);
        return;
    }
    u -= plate_ww0;
    if (u < plate_for0) {
        size_t c = 0;
        while (u >= plate_for_start[c + 1])
            c++;
        v->plate_kind = REC_PLATE_FOREIGN;
        GEN_SET(v->country, gen_plate_countries[c].cc);
        gen_plate_foreign(&b, seed, c, u - plate_for_start[c]);
        return;
    }
    u -= plate_for0;
    /* 7919 is prime and no factor of 140 * 999: a bijection. */
    uint64_t x = (u * 7919 + gen_key(seed, GEN_K_PLATE_DIPLO) % GEN_DIPLO_SPACE) % GEN_DIPLO_SPACE;
    uint64_t mission = x / 999 + 1, car = x % 999 + 1;
    v->plate_kind = REC_PLATE_DIPLOMATIC;
    gb_uint(&b, mission, 0);
    gb_str(&b, mission > 120 ? " CC " : car == 1 ? " CMD " : " CD ");
    gb_uint(&b, car, 0);
}

static int gen_vin_value(char c)
{
    static const uint8_t letter[26] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4,
                                       5, 0, 7, 0, 9, 2, 3, 4, 5, 6, 7, 8, 9};
    return c >= '0' && c <= '9' ? c - '0' : letter[c - 'A'];
}

/*
 * A VIN: WMI of the make, four characters fixed per model, a character
 * and the plant (positions 8 and 11) and a 6-digit serial from a keyed
 * permutation of the index (unique up to 990 million vehicles), the model
 * year at 10 and the check digit at 9.
 */
static void gen_vin(struct gen_rng *r, uint64_t seed, uint64_t index, uint32_t model, int year,
                    char out[REC_VIN_SZ])
{
    const struct gen_make *mk = &gen_makes[gen_models[model].make];
    uint32_t w = gen_below(r, 6);
    const char *wmi = mk->wmi[w < 3 ? 0 : w < 5 ? 1 : 2];
    uint64_t u = gen_permute(index % GEN_VIN_SPACE, GEN_VIN_SPACE, gen_key(seed, GEN_K_VIN));
    char v[REC_VIN_SZ];
    memcpy(v, wmi, 3);
    uint64_t h = gen_mix64(0xA3C59AC3ULL + model);
    for (int i = 3; i < 7; i++) {
        v[i] = gen_vin_chars[h % 33];
        h /= 33;
    }
    v[7] = gen_vin_chars[(u / 1000000) % 33];
    v[9] = gen_vin_years[(year - 1980) % 30];
    v[10] = gen_vin_chars[u / 33000000];
    uint64_t serial = u % 1000000;
    for (int i = 16; i >= 11; i--) {
        v[i] = (char)('0' + serial % 10);
        serial /= 10;
    }
    static const uint8_t weight[17] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
    int sum = 0;
    v[8] = '0';
    for (int i = 0; i < 17; i++)
        sum += gen_vin_value(v[i]) * weight[i];
    v[8] = sum % 11 == 10 ? 'X' : (char)('0' + sum % 11);
    v[17] = '\0';
    memcpy(out, v, REC_VIN_SZ);
}

void records_gen_vehicle_at(uint64_t seed, int64_t index, int64_t persons,
                            struct records_vehicle *out)
{
    gen_tables();
    memset(out, 0, sizeof(*out));
    struct gen_rng r;
    gen_rng_at(&r, seed, GEN_S_VEHICLE, (uint64_t)index);
    gen_plate(seed, (uint64_t)index, out);

    /* A WW plate is a new vehicle: a model still made. */
    uint32_t mi = GEN_PICK(&r, model_table);
    for (int tries = 0; out->plate_kind == REC_PLATE_WW && gen_models[mi].to < 2025 && tries < 8;
         tries++)
        mi = GEN_PICK(&r, model_table);
    const struct gen_model *m = &gen_models[mi];
    int from = m->from < 1985 ? 1985 : m->from, to = m->to > 2025 ? 2025 : m->to;
    /* Older years are rarer: the smaller of two uniform ages. */
    uint32_t a = gen_below(&r, (uint32_t)(to - from + 1)),
             b = gen_below(&r, (uint32_t)(to - from + 1));
    out->year = out->plate_kind == REC_PLATE_WW ? to : to - (int)(a < b ? a : b);
    GEN_SET(out->make, gen_makes[m->make].name);
    GEN_SET(out->model, m->name);
    GEN_SET(out->colour, gen_colours[GEN_PICK(&r, colour_table)]);
    gen_vin(&r, seed, (uint64_t)index, mi, out->year, out->vin);
    /* Foreign and diplomatic vehicles have no Moroccan owner on record. */
    if (persons > 0 && gen_below(&r, 100) < 90 &&
        (out->plate_kind == REC_PLATE_MA || out->plate_kind == REC_PLATE_WW))
        gen_cin(seed, gen_next(&r) % (uint64_t)persons, out->owner_cin, NULL);
}

/* ================================================================ hotlist */

static const char *gen_one(struct gen_rng *r, const char *const *list, size_t n)
{
    return list[gen_below(r, (uint32_t)n)];
}

#define GEN_ONE(r, list) gen_one(r, list, GEN_LEN(list))

static void gen_service(struct gen_rng *r, int kind, bool interpol, char out[REC_NAME_MAX])
{
    struct gen_buf b;
    gb_init(&b, out, REC_NAME_MAX);
    if (interpol) {
        gb_str(&b, "Interpol NCB Rabat");
        return;
    }
    const char *city = gen_services_city[GEN_PICK(r, service_city_table)];
    uint32_t k = gen_below(r, 100);
    if (kind == 1 && k < 10) {
        gb_str(&b, "Brigade nationale de la police judiciaire");
    } else if (kind == 1 && k < 25) {
        gb_str(&b, "Parquet — Tribunal de première instance ");
        gb_de(&b, city);
    } else if (k < 45) {
        gb_str(&b, "DGSN — Police judiciaire, ");
        gb_str(&b, city);
    } else if (k < 90) {
        gb_str(&b, "Préfecture de police ");
        gb_de(&b, city);
        gb_str(&b, kind == 1 ? " — Police judiciaire" : " — Sûreté");
    } else {
        gb_str(&b, "Gendarmerie royale — Compagnie ");
        gb_de(&b, city);
    }
}

void records_gen_hotlist_at(uint64_t seed, int64_t index, int64_t persons, int64_t vehicles,
                            const char *today, struct records_hotlist *out)
{
    gen_tables();
    memset(out, 0, sizeof(*out));
    struct gen_rng r;
    gen_rng_at(&r, seed, GEN_S_HOTLIST, (uint64_t)index);
    int64_t now = gen_parse_day(today);
    if (now < 0)
        now = gen_parse_day(GEN_TODAY_DEFAULT);

    /* 0 stolen (60 %), 1 wanted (30 %), 2 missing (10 %), as the records allow. */
    uint32_t k = gen_below(&r, 100);
    int kind = k < 60 ? 0 : k < 90 ? 1 : 2;
    if (persons <= 0)
        kind = 0;
    else if (vehicles <= 0 && kind == 0)
        kind = k < 15 ? 2 : 1;

    int64_t from = now - gen_below(&r, 731);
    gen_date(from, out->valid_from);
    if (gen_below(&r, 100) >= 45)
        gen_date(now + 1 + gen_below(&r, 730), out->valid_until);
    int y, mo, d;
    gen_civil_from_days(from, &y, &mo, &d);
    uint64_t no = 1 + gen_below(&r, 9999);

    struct gen_buf b;
    gb_init(&b, out->reason, REC_TEXT_MAX);
    if (kind == 0) {
        /* Different entries name different vehicles (a permutation of the first ones). */
        uint64_t v = vehicles > 0
                         ? gen_permute((uint64_t)index % (uint64_t)vehicles, (uint64_t)vehicles,
                                       gen_key(seed, GEN_K_HOT_VEHICLE))
                         : (uint64_t)index;
        struct records_vehicle veh;
        records_gen_vehicle_at(seed, (int64_t)v, 0, &veh);
        bool foreign = veh.plate_kind == REC_PLATE_FOREIGN;
        struct gen_buf pb;
        gb_init(&pb, out->plate, REC_PLATE_SZ);
        if (foreign) {
            /* The hotlist has no country field: the plate carries it ("F:FR:AB-123-CD"). */
            gb_str(&pb, "F:");
            gb_str(&pb, veh.country);
            gb_str(&pb, ":");
        }
        gb_str(&pb, veh.plate);
        if (foreign || gen_below(&r, 100) < 35)
            GEN_SET(out->vin, veh.vin);
        GEN_SET(out->kind, "stolen");
        uint32_t form = gen_below(&r, 100);
        if (foreign) {
            gb_str(&b, "Signalement Interpol SMV — véhicule volé à l'étranger (");
            gb_str(&b, veh.country);
            gb_str(&b, ")");
        } else if (form < 70) {
            gb_str(&b, "Plainte n° ");
            gb_uint(&b, no, 0);
            gb_str(&b, "/");
            gb_uint(&b, (uint64_t)y, 4);
            gb_str(&b, form < 50 ? " — vol de véhicule" : " — vol avec effraction");
        } else if (form < 80) {
            gb_str(&b, "Vol avec violence (carjacking), PV n° ");
            gb_uint(&b, no, 0);
            gb_str(&b, "/");
            gb_uint(&b, (uint64_t)y, 4);
        } else if (form < 90) {
            gb_str(&b, "Véhicule de location non restitué, plainte n° ");
            gb_uint(&b, no, 0);
            gb_str(&b, "/");
            gb_uint(&b, (uint64_t)y, 4);
        } else {
            gb_str(&b, "Véhicule signalé volé par son propriétaire le ");
            gb_str(&b, out->valid_from);
        }
        gen_service(&r, 0, foreign, out->service);
        bool seize = gen_below(&r, 100) < 70;
        GEN_SET(out->action, seize ? "seize" : "stop_check");
        GEN_SET(out->instructions,
                seize ? GEN_ONE(&r, gen_instr_seize) : GEN_ONE(&r, gen_instr_stop_vehicle));
        return;
    }

    uint64_t p = gen_permute((uint64_t)index % (uint64_t)persons, (uint64_t)persons,
                             gen_key(seed, GEN_K_HOT_PERSON));
    gen_cin(seed, p, out->cin, NULL);
    if (kind == 1) {
        GEN_SET(out->kind, "wanted");
        const char *crime = gen_crimes[GEN_PICK(&r, crime_table)];
        uint32_t form = gen_below(&r, 100);
        bool interpol = form >= 95;
        if (form < 55) {
            gb_str(&b, "Mandat d'arrêt n° ");
            gb_uint(&b, (uint64_t)y, 4);
            gb_str(&b, "/");
            gb_uint(&b, no, 0);
        } else if (form < 80) {
            gb_str(&b, "Avis de recherche n° ");
            gb_uint(&b, no, 0);
            gb_str(&b, "/");
            gb_uint(&b, (uint64_t)y, 4);
        } else if (!interpol) {
            gb_str(&b, "Condamné en fuite, jugement n° ");
            gb_uint(&b, no, 0);
            gb_str(&b, "/");
            gb_uint(&b, (uint64_t)y, 4);
        } else {
            gb_str(&b, "Notice rouge Interpol A-");
            gb_uint(&b, no, 0);
            gb_str(&b, "/");
            gb_uint(&b, (uint64_t)y, 4);
        }
        gb_str(&b, " — ");
        gb_str(&b, crime);
        gen_service(&r, 1, interpol, out->service);
        bool arrest = gen_below(&r, 100) < 80;
        GEN_SET(out->action, arrest ? "arrest" : "stop_check");
        GEN_SET(out->instructions,
                arrest ? GEN_ONE(&r, gen_instr_arrest) : GEN_ONE(&r, gen_instr_stop_person));
        return;
    }

    /* Missing: the words and the action depend on the person's age. */
    struct records_person person;
    records_gen_person_at(seed, (int64_t)p, &person);
    int born = (person.birth_date[0] - '0') * 1000 + (person.birth_date[1] - '0') * 100 +
               (person.birth_date[2] - '0') * 10 + (person.birth_date[3] - '0');
    GEN_SET(out->kind, "missing");
    bool protect;
    if (y - born >= 70) {
        gb_str(&b, "Personne âgée désorientée, disparue le ");
        gb_str(&b, out->valid_from);
        protect = true;
    } else {
        protect = gen_below(&r, 2) == 0;
        if (gen_below(&r, 2)) {
            gb_str(&b, "Disparition signalée le ");
            gb_str(&b, out->valid_from);
        } else {
            gb_str(&b, "Disparition inquiétante signalée le ");
            gb_str(&b, out->valid_from);
            gb_str(&b, ", PV n° ");
            gb_uint(&b, no, 0);
            gb_str(&b, "/");
            gb_uint(&b, (uint64_t)y, 4);
        }
    }
    gen_service(&r, 2, false, out->service);
    GEN_SET(out->action, protect ? "protect" : "report");
    GEN_SET(out->instructions,
            protect ? GEN_ONE(&r, gen_instr_protect) : GEN_ONE(&r, gen_instr_report));
}

/* ================================================================ the generator */

void records_gen_init(struct records_gen *g, uint64_t seed)
{
    g->state = seed;
    g->persons = g->vehicles = g->hotlist = 0;
}

void records_gen_person(struct records_gen *g, struct records_person *out)
{
    records_gen_person_at(g->state, g->persons++, out);
}

void records_gen_vehicle(struct records_gen *g, int64_t persons, struct records_vehicle *out)
{
    records_gen_vehicle_at(g->state, g->vehicles++, persons, out);
}

void records_gen_hotlist(struct records_gen *g, int64_t persons, int64_t vehicles,
                         struct records_hotlist *out)
{
    records_gen_hotlist_at(g->state, g->hotlist++, persons, vehicles, NULL, out);
}
